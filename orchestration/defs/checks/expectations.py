"""The Great Expectations suites, one entry per relation: adding a suite is adding an entry.

Each suite runs as the Dagster asset check `great_expectations` on the relation's asset (the key
the dbt assets give it, found through the manifest), against the warehouse in use
(orchestration/defs/checks/gx.py). A relation the dbt project does not define yet gets no check,
with a warning when the definitions load; one the project defines but the warehouse has not built
fails its check and says so.

Expectations are written as data (the GX expectation type without its `expect_` prefix, and its
arguments, https://greatexpectations.io/expectations/), so that loading the definitions does not
import Great Expectations; a unit test builds every one of them with GX.

Great Expectations validates the raw landing tables, which no dbt test reads; the marts are
dbt's: their contracts and data tests (models/marts/*.yml) check keys, sets and ranges. `raw` is
a landing zone where rows that break the contract legitimately land (dbt quarantines them,
docs/DESIGN.md "Bad input"), so its suites tolerate a few (`mostly`) and only warn.
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
}
