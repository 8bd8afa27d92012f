"""The dashboard's queries: one per panel, the analysis dbt compiles from analyses/<name>.sql.

dbt compiles them here with var dashboard_bind_parameters, so each parameter is a typed bind
parameter (%(name)s, macros/dashboard.sql) that the server fills per request: the page, the API
and the exposures share one definition of each panel."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Prepared:
    """A panel's query as a prepared statement of each reader's session: planned once per
    session, not per request (the live views' planning cost several times their execution)."""

    prepare: str  # PREPARE <name> AS <the query, with $1, $2, ...>
    execute: str  # EXECUTE <name> (%s, ...): psycopg2 fills in the values
    names: tuple[str, ...]  # the parameters, in the order of $1, $2, ...

    @classmethod
    def of(cls, panel: str, sql: str) -> Prepared:
        names: list[str] = []

        def numbered(match: re.Match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        # Sent without parameters, so psycopg2 leaves it as it is: %% back to %.
        body = re.sub(r"%\((\w+)\)s", numbered, sql).replace("%%", "%")
        values = f" ({', '.join(['%s'] * len(names))})" if names else ""
        # The name is the panel's, a constant of PANELS (never from a request).
        return cls(
            f"prepare panel_{panel} as {body}", f"execute panel_{panel}{values}", tuple(names)
        )

    def values(self, parameters: dict[str, Any]) -> list[Any]:
        return [parameters[name] for name in self.names]


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
