"""The Great Expectations suites, one entry per relation: adding a suite is adding an entry.

Each suite runs as the Dagster asset check `great_expectations` on the relation's asset (the key
the dbt assets give it, found through the manifest), against the warehouse in use
(orchestration/defs/checks/gx.py). A relation the dbt project does not define yet gets no check,
with a warning when the definitions load; one the project defines but the warehouse has not built
fails its check and says so.

Expectations are written as data (the GX expectation type without its `expect_` prefix, and its
arguments, https://greatexpectations.io/expectations/), so that loading the definitions does not
import Great Expectations; a unit test builds every one of them with GX.

Severity: `raw` is a landing zone where rows that break the contract legitimately land (dbt
quarantines them, DESIGN.md "Bad input"), so its suites tolerate a few (`mostly`) and only warn;
a mart failing its suite is an error, reported on the asset the dashboards read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import dagster as dg

WARN = dg.AssetCheckSeverity.WARN
ERROR = dg.AssetCheckSeverity.ERROR

# Share of a landing table's rows that must keep a rule before its suite warns: a handful of bad
# rows is the quarantine's business, a percent of them means the feed is broken.
RAW_MOSTLY = 0.99


@dataclass(frozen=True)
class Expectation:
    """One GX expectation: `type` without the `expect_` prefix, and its arguments."""

    type: str
    kwargs: Mapping[str, Any]

    @property
    def gx_type(self) -> str:
        return f"expect_{self.type}"

    def describe(self) -> str:
        return describe(self.gx_type, self.kwargs)


def describe(gx_type: str, kwargs: Mapping[str, Any]) -> str:
    """`column_values_to_be_between(price)`: an expectation by its type and what it is on."""
    target = kwargs.get("column") or kwargs.get("column_list")
    if target is None and "column_A" in kwargs:
        target = f"{kwargs['column_A']}, {kwargs['column_B']}"
    name = gx_type.removeprefix("expect_")
    return f"{name}({target})" if target else name


def expect(type: str, **kwargs: Any) -> Expectation:
    return Expectation(type, MappingProxyType(kwargs))


@dataclass(frozen=True)
class Suite:
    expectations: tuple[Expectation, ...]
    severity: dg.AssetCheckSeverity
    description: str


def _between(
    column: str, low: float | None = None, high: float | None = None, **kw: Any
) -> Expectation:
    return expect("column_values_to_be_between", column=column, min_value=low, max_value=high, **kw)


def _in_set(column: str, values: list[str], **kw: Any) -> Expectation:
    return expect("column_values_to_be_in_set", column=column, value_set=values, **kw)


def _unique(*columns: str) -> Expectation:
    if len(columns) == 1:
        return expect("column_values_to_be_unique", column=columns[0])
    return expect("compound_columns_to_be_unique", column_list=list(columns))


def _not_empty() -> Expectation:
    return expect("table_row_count_to_be_between", min_value=1)


SUITES: Mapping[str, Suite] = {
    # DESIGN.md, "Source contract": the rules staging quarantines on.
    "raw.trades": Suite(
        description="Executions as they land: the contract's ranges and sets, mostly kept.",
        severity=WARN,
        expectations=(
            _not_empty(),
            expect("column_values_to_be_unique", column="trade_id", mostly=RAW_MOSTLY),
            _in_set("action", ["entry", "exit", "settlement"], mostly=RAW_MOSTLY),
            _between("price", 0, 1, mostly=RAW_MOSTLY),
            _between("quantity", 0, None, strict_min=True, mostly=RAW_MOSTLY),
            _between("fees", 0, None, mostly=RAW_MOSTLY),
        ),
    ),
    "raw.positions": Suite(
        description="Position versions as they land: side, status and entry price, mostly kept.",
        severity=WARN,
        expectations=(
            _not_empty(),
            expect("column_values_to_be_unique", column="position_key"),  # the primary key
            _in_set("side", ["yes", "no"], mostly=RAW_MOSTLY),
            _in_set("status", ["open", "monitoring", "exited", "settled"], mostly=RAW_MOSTLY),
            _between("entry_price", 0, 1, mostly=RAW_MOSTLY),
        ),
    ),
    # The marts: their keys, sets and ranges (models/marts/*.yml), and not empty after a build.
    "marts.performance_tracking": Suite(
        description="P&L at the eight levels: one row per bucket and dimensions, sane components.",
        severity=ERROR,
        expectations=(
            _not_empty(),
            _unique(
                "aggregation_level",
                "period_start",
                "trade_id",
                "strategy_id",
                "model_id",
                "league",
                "market_type",
            ),
            _in_set(
                "aggregation_level",
                [
                    "trade",
                    "hourly",
                    "daily",
                    "weekly",
                    "monthly",
                    "quarterly",
                    "yearly",
                    "all_time",
                ],
            ),
            expect("column_values_to_not_be_null", column="strategy_id"),
            expect("column_values_to_not_be_null", column="model_id"),
            _between("total_trades", 1),
            expect(
                "column_pair_values_a_to_be_greater_than_b",
                column_A="total_trades",
                column_B="closed_trades",
                or_equal=True,
            ),
            _between("win_rate", 0, 1),
            _between("fees", 0),
            _between("gross_profit", 0),
            _between("gross_loss", None, 0),
            _between("max_drawdown", 0),
            _between("profit_factor", 0),
        ),
    ),
    "marts.mv_model_accuracy": Suite(
        description="Model accuracy dashboard: one row per model and league, scores in range.",
        severity=ERROR,
        expectations=(
            _not_empty(),
            _unique("model_id", "league"),
            _between("n_forecasts", 1),
            _between("base_rate", 0, 1),
            _between("brier_score", 0, 1),
            _between("log_loss", 0),
            _between("ece", 0, 1),
            _between("mce", 0, 1),
            _between("spiegelhalter_p", 0, 1),
        ),
    ),
    "marts.model_calibration_metrics": Suite(
        description="Calibration metrics: one row per model, league and window, scores in range.",
        severity=ERROR,
        expectations=(
            _not_empty(),
            _unique("model_id", "league", "calibration_window"),
            _in_set("calibration_window", ["all_time", "last_30d"]),
            _between("n_forecasts", 1),
            _between("base_rate", 0, 1),
            _between("brier_score", 0, 1),
            _between("uncertainty", 0, 0.25),
            _between("ece", 0, 1),
            _between("mce", 0, 1),
            _between("spiegelhalter_p", 0, 1),
        ),
    ),
    "marts.mv_ab_test_results": Suite(
        description="A/B results dashboard: one row per experiment, metric and test.",
        severity=ERROR,
        # No row count: a desk running no experiment has none, legitimately.
        expectations=(
            _unique("experiment_name", "metric", "test"),
            _in_set("metric", ["assignment", "win_rate", "pnl_per_trade", "pnl_per_market"]),
            _in_set("role", ["guardrail", "primary", "secondary", "diagnostic"]),
            _between("p_value", 0, 1),
            _between("p_adjusted", 0, 1),
            _between("n_control_markets", 0),
            _between("n_treatment_markets", 0),
        ),
    ),
    "marts.mv_current_positions": Suite(
        description="Positions held now: one row per position, priced within [0, 1].",
        severity=ERROR,
        # No row count: a desk may hold nothing between games.
        expectations=(
            _unique("position_id"),
            _in_set("position_status", ["open", "monitoring"]),
            _in_set("side", ["yes", "no"]),
            _between("open_quantity", 0, None, strict_min=True),
            _between("average_entry_price", 0, 1),
            _between("current_price", 0, 1),
        ),
    ),
    "marts.mv_daily_pnl": Suite(
        description="Daily P&L: one row per day and dimensions, rates and drawdowns in range.",
        severity=ERROR,
        expectations=(
            _not_empty(),
            _unique("pnl_date", "strategy_id", "model_id", "league", "market_type"),
            _between("total_trades", 1),
            _between("win_rate", 0, 1),
            _between("fees", 0),
            _between("max_drawdown", 0),
            _between("drawdown", 0),
        ),
    ),
    "marts.mv_strategy_performance": Suite(
        description="Strategy versions compared: one row per version, league and market type.",
        severity=ERROR,
        expectations=(
            _not_empty(),
            _unique("strategy_id", "league", "market_type"),
            _between("total_trades", 1),
            _between("win_rate", 0, 1),
            _between("profit_factor", 0),
            _between("max_drawdown", 0),
        ),
    ),
    "marts.mv_market_edges": Suite(
        description="Market overview: one row per market in play and model, quotes in [0, 1].",
        severity=ERROR,
        # No row count: between seasons no market may be in play.
        expectations=(
            _unique("market_id", "model_id"),
            _in_set("market_status", ["open", "closed"]),
            _between("predicted_prob", 0, 1),
            _between("yes_bid", 0, 1),
            _between("yes_ask", 0, 1),
            _between("market_type_win_rate", 0, 1),
        ),
    ),
}
