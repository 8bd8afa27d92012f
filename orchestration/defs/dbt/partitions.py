"""Partitions of the pipeline, and the dbt arguments a partition window becomes.

A partition is a landing window: the rows that landed in `raw` (by `loaded_at`) during that hour
or day. A run processes everything that landed since the previous run and, in addition, every
row that landed in its window (dbt vars loaded_from / loaded_to, macros/incremental.sql), so a
backfill over a range of partitions, one dbt invocation, recomputes all that range touched.
Windows are half-open, [start, end), as Dagster's time windows are.
"""

from __future__ import annotations

import json
import os
from datetime import datetime

import dagster as dg

# The first landing window the pipeline schedules; rows that landed earlier are history, built
# by the first run of every model whatever its window.
PARTITIONS_START = "2026-01-01"


def reporting_timezone() -> str:
    """The zone of daily buckets and schedules, as dbt's var reporting_timezone defaults it."""
    return os.environ.get("PRECOG_REPORTING_TIMEZONE") or "UTC"


# Both in the reporting zone: Dagster maps hourly onto daily partitions of the same zone only
# (the daily job's assets depend on the hourly ones). A repeated hour at the end of daylight
# saving time has a key of its own ("2025-11-02-01:00-0500"); a half-hour zone's hours start
# at :30 UTC. A partition is a landing window either way, whatever the zone.
hourly_partitions = dg.HourlyPartitionsDefinition(
    start_date=f"{PARTITIONS_START}-00:00", timezone=reporting_timezone()
)
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone=reporting_timezone()
)
# By the meta `partitioning` of the dbt models (dbt_project.yml).
PARTITIONS: dict[str, dg.PartitionsDefinition | None] = {
    "hourly": hourly_partitions,
    "daily": daily_partitions,
    "none": None,
}


def landing_window_vars(start: datetime, end: datetime) -> dict[str, str]:
    """dbt vars for the rows that landed in [start, end)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("landing windows need time zone aware bounds")
    if not start < end:
        raise ValueError(f"empty landing window [{start}, {end})")
    return {"loaded_from": start.isoformat(), "loaded_to": end.isoformat()}


def dbt_build_args(
    window: tuple[datetime, datetime] | None = None, full_refresh: bool = False
) -> list[str]:
    """`dbt build` for a partition window (or none), with --full-refresh when asked."""
    args = ["build"]
    if window is not None:
        args += ["--vars", json.dumps(landing_window_vars(*window))]
    if full_refresh:
        args.append("--full-refresh")
    return args
