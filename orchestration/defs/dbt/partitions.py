"""Partitions of the pipeline, and the dbt arguments a partition window becomes.

A partition is a landing window: the rows that landed in `raw` (by `loaded_at`) during that hour
or day. A run processes everything that landed since the previous run and, in addition, every
row that landed in its window (dbt vars loaded_from / loaded_to, macros/incremental.sql), so a
backfill over a range of partitions, one dbt invocation, recomputes all that range touched.
Windows are half-open, [start, end), as Dagster's time windows are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from precog import partitions_start, reporting_timezone

# Both in the reporting zone: Dagster maps hourly onto daily partitions of the same zone only
# (the daily job's assets depend on the hourly ones). A repeated hour at the end of daylight
# saving time has a key of its own ("2025-11-02-01:00-0500"); a half-hour zone's hours start
# at :30 UTC. A partition is a landing window either way, whatever the zone.
# They begin on the desk's first day (PRECOG_PARTITIONS_START): rows that landed earlier are
# history, built by the first run of every model whatever its window.
hourly_partitions = dg.HourlyPartitionsDefinition(
    start_date=f"{partitions_start()}-00:00", timezone=reporting_timezone()
)
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=partitions_start(), timezone=reporting_timezone()
)
# By the meta `partitioning` of the dbt models (dbt_project.yml). Every model is in one of the
# two jobs: views over every level are built with the daily job, in its dbt invocation (an
# unpartitioned multi-asset would cost each daily run two more dbt invocations, as Dagster
# splits a job's multi-assets around the A/B asset).
PARTITIONS: dict[str, dg.PartitionsDefinition] = {
    "hourly": hourly_partitions,
    "daily": daily_partitions,
}


# A catch-up run marks as done the windows it covered, four days of them at most: all of
# `make demo`'s desk, which begins on the UTC date two days back, in any reporting zone (up to
# 3 days 14 hours back). Each window costs Dagster an event per asset and a row per asset check,
# stored before the run starts and after it ends: at 1M trades, in turn, the first run took
# 124-134 s marking a week, 113-119 s marking three days, 100 s marking one. Older windows a
# catch-up covered stay unmarked (it processed what landed in them); a backfill marks them.
CATCH_UP_MARKS_AT_MOST = timedelta(days=4)


def catch_up_range(
    partitions: dg.TimeWindowPartitionsDefinition, previous_end: datetime | None
) -> tuple[str, str]:
    """The partitions a catch-up run covers: every window since the previous run's (it processes
    all that landed since), to the last finished one; the last again when none finished since."""
    last = partitions.get_last_partition_key()
    if last is None:
        raise ValueError(
            f"the partitions begin on {partitions.start:%Y-%m-%d} (PRECOG_PARTITIONS_START) and"
            " none has ended yet: nothing to run for"
        )
    end = partitions.time_window_for_partition_key(last).end
    start = max(end - CATCH_UP_MARKS_AT_MOST, partitions.start)
    if previous_end is not None:
        start = max(start, previous_end)
    keys = partitions.get_partition_keys_in_time_window(dg.TimeWindow(start, end))
    return (keys[0], keys[-1]) if keys else (last, last)


def landing_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """dbt vars for the rows that landed in [start, end)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("landing windows need time zone aware bounds")
    # Compared in UTC: Python compares two times of one zone by their wall clocks, ignoring
    # the fold, so the repeated hour at the end of daylight saving time, [01:00-04:00,
    # 01:00-05:00), would look empty.
    if not start.astimezone(UTC) < end.astimezone(UTC):
        raise ValueError(f"empty landing window [{start}, {end})")
    return {"loaded_from": start.isoformat(), "loaded_to": end.isoformat()}


# The dbt tests that read a relation's whole history for what its parts keep as rows are
# written (macros/check_constraints.sql): marts.performance_tracking's, int_position_pnl's
# open quantity, int_closing_trade_edges' grain.
WHOLE_HISTORY_TAG = "whole_history"


def dbt_build_args(
    window: tuple[datetime, datetime] | None = None,
    full_refresh: bool = False,
    validate_everything: bool = False,
) -> list[str]:
    """`dbt build` for a partition window (or none), with --full-refresh when asked, testing
    every row when asked (var validate_everything, macros/test_windows.sql). Unit tests test the
    SQL, not the data: CI runs them (tests/precog/test_pipeline.py), not every run; nor does it
    run the tests of the whole history (tag whole_history) unless it tests every row."""
    args = ["build", "--exclude-resource-type", "unit_test"]
    if not (full_refresh or validate_everything):
        args += ["--exclude", f"tag:{WHOLE_HISTORY_TAG}"]
    variables = {} if window is None else landing_window_vars(*window)
    if validate_everything and not full_refresh:  # a full refresh tests everything anyway
        variables["validate_everything"] = True
    if variables:
        args += ["--vars", json.dumps(variables)]
    if full_refresh:
        args.append("--full-refresh")
    return args


# Run tags that scope a run, set by `precog run` or by an operator launching a run (the UI's
# launchpad, "Edit tags"): rebuild every model whole, and test and validate everything; catch
# up on what landed since the previous run, without a landing window of its own; test and
# validate every row without rebuilding (`precog run` asks it unless the previous run succeeded
# with the same project: a new test sees the history, a failed test fails again until fixed).
FULL_REFRESH_TAG = "precog/full_refresh"
CATCH_UP_TAG = "precog/catch_up"
VALIDATE_EVERYTHING_TAG = "precog/validate_everything"


@dataclass(frozen=True)
class RunScope:
    """What a run processes, decided once from its partition and its tags, and read by the dbt
    assets (the dbt arguments) and by the Great Expectations suites (the rows they validate)."""

    partition_window: tuple[datetime, datetime] | None
    full_refresh: bool = False
    catch_up: bool = False
    validate_everything: bool = False

    @classmethod
    def of(cls, context) -> RunScope:
        """The scope of the run of an op, asset or asset check context."""
        op_context = getattr(context, "op_execution_context", context)
        window = None
        # A backfill of a range in one run (BackfillPolicy.single_run) has a range, not a key.
        if op_context.has_partition_key or op_context.has_partition_key_range:
            try:
                time_window = op_context.partition_time_window
                window = (time_window.start, time_window.end)
            except Exception:  # a partition that is not a time window: no window
                window = None
        tags = op_context.run.tags
        return cls(
            partition_window=window,
            full_refresh=tags.get(FULL_REFRESH_TAG) == "true",
            catch_up=tags.get(CATCH_UP_TAG) == "true",
            validate_everything=tags.get(VALIDATE_EVERYTHING_TAG) == "true",
        )

    @property
    def build_window(self) -> tuple[datetime, datetime] | None:
        """The landing window dbt recomputes besides what landed since the last run."""
        return None if self.full_refresh or self.catch_up else self.partition_window

    @property
    def validates_everything(self) -> bool:
        """Whether the dbt tests and the suites check every row (a full refresh, or asked);
        otherwise the rows not validated yet and those that landed in the validation window."""
        return self.full_refresh or self.validate_everything

    @property
    def validation_window(self) -> tuple[datetime, datetime] | None:
        """The landing window whose rows are validated besides those not validated yet: the
        build window, as the dbt tests take it from the window vars."""
        return self.build_window

    def dbt_build_args(self, full_refresh_owed: str | None = None) -> list[str]:
        """The run's `dbt build`: the one place a full refresh is decided, asked by the run's
        tag or owed by the models (bookkeeping.full_refresh_owed: dbt refuses to build a model
        incrementally that owes one)."""
        full_refresh = self.full_refresh or full_refresh_owed is not None
        return dbt_build_args(
            None if full_refresh else self.build_window,
            full_refresh=full_refresh,
            validate_everything=self.validate_everything,
        )
