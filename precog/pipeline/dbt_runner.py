"""The dbt project on disk, and running dbt against the warehouse (outside Dagster: the CLI,
the bench and the tests; the Dagster resource is orchestration/defs/dbt/resources.py)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from precog import PROJECT_ROOT
from precog.warehouse.database import Warehouse

DBT_PROJECT_DIR = PROJECT_ROOT
DBT_PROFILES_DIR = PROJECT_ROOT / "profiles"
# The dbt of this environment, whether or not its bin directory is on PATH, started through
# `precog-dbt` (precog/pipeline/dbt_child.py) so that it dies with the process that started it.
DBT = str(Path(sys.executable).with_name("dbt"))
DBT_EXECUTABLE = shutil.which("precog-dbt", path=str(Path(sys.executable).parent)) or DBT
# What `dbt parse` writes and the Dagster definitions load.
MANIFEST_PATH = PROJECT_ROOT / "target" / "manifest.json"
# What a parse reads (dbt_project.yml's paths, the profile) and the environment it reads
# (the profile's libpq variables, env_var() in dbt_project.yml): the parse key.
PARSED_FOLDERS = ("models", "macros", "analyses", "tests/dbt", "seeds", "profiles")
PARSED_ENVIRONMENT = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PRECOG_REPORTING_TIMEZONE")


def dbt_env(target: Warehouse | None = None) -> dict[str, str]:
    """The environment a dbt process needs: the warehouse's libpq variables and the profile."""
    return {
        **os.environ,
        **(target.libpq_env() if target else {}),
        "DBT_PROFILES_DIR": str(DBT_PROFILES_DIR),
    }


def run_dbt(
    args: list[str], target: Warehouse | None = None, target_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run dbt in the project; output is captured, a failure is not raised.

    `target_path` keeps dbt's artifacts apart (tests building several databases side by side).
    """
    command = [DBT_EXECUTABLE, *args]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    return subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=dbt_env(target), capture_output=True, text=True
    )


def parse_key(env: dict[str, str], project: Path = DBT_PROJECT_DIR) -> str:
    """What the manifest depends on: the files dbt parses, the variables it reads, its version."""
    from importlib.metadata import version

    digest = hashlib.sha256(version("dbt-core").encode())
    digest.update((project / "dbt_project.yml").read_bytes())
    for folder in PARSED_FOLDERS:
        for path in sorted((project / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(project)).encode() + b"\0")
                digest.update(path.read_bytes())
    for name in PARSED_ENVIRONMENT:
        digest.update(f"{name}={env.get(name, '')}\0".encode())
    return digest.hexdigest()


def prepare_manifest(manifest_path: Path = MANIFEST_PATH) -> bool:
    """Parse the project into target/manifest.json, which the Dagster definitions load, unless
    the manifest there was parsed from the same files and environment (parse_key): dbt's own
    partial parse still costs seconds of start-up, paid by every `precog run`. Whether it parsed.

    One parse at a time (a lock), into a folder of its own that keeps dbt's partial parsing, and
    the manifest swapped in whole (a rename): a process reading target/manifest.json while
    another parses never sees half a file. dbt's partial parsing state goes beside it, where
    dagster-dbt copies it from into each invocation's target folder.
    """
    parse_dir = manifest_path.parent / "parse"
    parse_dir.mkdir(parents=True, exist_ok=True)
    key_path = manifest_path.with_name("manifest.key")
    with (parse_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        key = parse_key(dbt_env())
        if manifest_path.exists() and key_path.exists() and key_path.read_text() == key:
            return False
        result = run_dbt(["parse", "--quiet"], target_path=parse_dir)
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed: {(result.stdout + result.stderr).strip()}")
        key_path.unlink(missing_ok=True)  # the key goes last, after what it describes
        for name in ("manifest.json", "partial_parse.msgpack"):
            staged = manifest_path.with_name(f".{name}.{os.getpid()}")
            shutil.copyfile(parse_dir / name, staged)
            os.replace(staged, manifest_path.with_name(name))
        key_path.write_text(key)
        return True
