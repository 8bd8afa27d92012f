"""The dbt project, and running dbt against the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from orchestration.database import PROJECT_ROOT, Warehouse

DBT_PROJECT_DIR = PROJECT_ROOT
DBT_PROFILES_DIR = PROJECT_ROOT / "profiles"


def dbt_env(target: Warehouse) -> dict[str, str]:
    """The environment a dbt process needs: the warehouse's libpq variables and the profile."""
    return {**os.environ, **target.libpq_env(), "DBT_PROFILES_DIR": str(DBT_PROFILES_DIR)}


def run_dbt(
    args: list[str], target: Warehouse, target_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI of this environment in the project; output is captured, not raised on.

    `target_path` keeps dbt's artifacts apart (tests building several databases side by side).
    """
    command = [str(Path(sys.executable).with_name("dbt")), *args]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    return subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=dbt_env(target), capture_output=True, text=True
    )
