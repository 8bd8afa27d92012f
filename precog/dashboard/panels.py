"""The dashboard's queries: one per panel, the analysis dbt compiles from analyses/<name>.sql.

dbt compiles them here with var dashboard_bind_parameters, so each parameter is a typed bind
parameter (%(name)s, macros/dashboard.sql) that the server fills per request: the page, the API
and the exposures share one definition of each panel."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from precog import PROJECT_ROOT
from precog.pipeline.dbt_runner import run_dbt
from precog.warehouse.database import Warehouse

COMPILED = PROJECT_ROOT / "target" / "dashboard"
# Each panel's parameters and their defaults (the analyses' own defaults).
PANELS: dict[str, dict[str, Any]] = {
    "daily_pnl": {
        "days": 30,
        "strategy_id": None,
        "model_id": None,
        "league": None,
        "market_type": None,
    },
    "current_positions": {"position_limit": 100},
    "strategy_comparison": {"strategy_name": "value_hunter", "versions": None},
    "model_accuracy": {},
    "calibration_curve": {"model_id": 1, "league": "ALL"},
    "edge_capture": {},
    "market_overview": {"market_limit": 50},
    "ab_test_results": {},
    "dashboard_filters": {},
    "model_builds": {},
}


class PanelError(RuntimeError):
    """The panels' queries could not be compiled."""


def compile_panels(target: Warehouse) -> dict[str, str]:
    """Each panel's SQL, compiled by dbt from analyses/ with bind parameters."""
    result = run_dbt(
        [
            "compile",
            "--quiet",
            "--select",
            "path:analyses",
            "--exclude",
            "path:analyses/on_demand",
            "--vars",
            json.dumps({"dashboard_bind_parameters": True}),
        ],
        target,
        target_path=COMPILED,
    )
    if result.returncode != 0:
        raise PanelError(f"dbt compile failed: {(result.stdout + result.stderr).strip()}")
    folder = COMPILED / "compiled" / "precog" / "analyses"
    return {name: Path(folder / f"{name}.sql").read_text() for name in PANELS}


def parameters(panel: str, **given: Any) -> dict[str, Any]:
    """The panel's bind parameters: its defaults, overridden by what was given (None kept)."""
    unknown = set(given) - set(PANELS[panel])
    if unknown:
        raise ValueError(f"{panel} takes no parameter {', '.join(sorted(unknown))}")
    return {**PANELS[panel], **given}


def plain(value: Any) -> Any:
    """A value as JSON carries it exactly: numeric as a decimal string, never a float; times
    in ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
