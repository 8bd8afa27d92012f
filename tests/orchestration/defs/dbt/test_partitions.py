"""Partition windows become exact, half-open dbt landing windows (pure helpers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from orchestration.defs.dbt.partitions import (
    RunScope,
    catch_up_range,
    dbt_build_args,
    hourly_partitions,
    landing_window_vars,
)

# A run builds and tests the data; the unit tests of the SQL are CI's (test_pipeline.py).
BUILD = ["build", "--exclude-resource-type", "unit_test"]
# A run that does not test every row leaves out the tests of the whole history.
ROUTINE = [*BUILD, "--exclude", "tag:whole_history"]


def test_an_hour_partition_is_a_half_open_landing_window():
    window = dg.HourlyPartitionsDefinition(
        start_date="2026-01-01-00:00", timezone="UTC"
    ).time_window_for_partition_key("2026-11-24-13:00")
    assert landing_window_vars(window.start, window.end) == {
        "loaded_from": "2026-11-24T13:00:00+00:00",
        "loaded_to": "2026-11-24T14:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("day", "hours", "start"),
    [
        ("2026-03-08", 23, "2026-03-08T00:00:00-05:00"),  # daylight saving time starts
        ("2026-11-01", 25, "2026-11-01T00:00:00-04:00"),  # and ends
        ("2026-06-15", 24, "2026-06-15T00:00:00-04:00"),
    ],
)
def test_daily_partitions_follow_the_reporting_zone_across_dst(day, hours, start):
    window = dg.DailyPartitionsDefinition(
        start_date="2026-01-01", timezone="America/New_York"
    ).time_window_for_partition_key(day)
    variables = landing_window_vars(window.start, window.end)
    begin = datetime.fromisoformat(variables["loaded_from"])
    end = datetime.fromisoformat(variables["loaded_to"])
    assert variables["loaded_from"] == start
    assert end - begin == timedelta(hours=hours)


def test_the_repeated_hour_at_the_end_of_dst_is_a_window_of_its_own():
    # Found by make test-clock at 2026-11-01 05:59:30 UTC: Python compares two times of one
    # zone by their wall clocks, so [01:00-04:00, 01:00-05:00) looked empty.
    partitions = dg.HourlyPartitionsDefinition(
        start_date="2026-01-01-00:00", timezone="America/New_York"
    )
    keys = partitions.get_partition_keys_in_range(
        dg.PartitionKeyRange("2026-11-01-00:00", "2026-11-01-02:00")
    )
    windows = [partitions.time_window_for_partition_key(key) for key in keys]
    variables = [landing_window_vars(window.start, window.end) for window in windows]
    assert [v["loaded_from"] for v in variables] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]
    for v in variables:
        begin, end = (datetime.fromisoformat(v[k]) for k in ("loaded_from", "loaded_to"))
        assert end.astimezone(UTC) - begin.astimezone(UTC) == timedelta(hours=1)


def test_a_catch_up_covers_the_windows_since_the_previous_run_four_days_at_most():
    # Windows ending by 2026-10-30 12:00 UTC: the last finished one is 11:00-12:00.
    partitions = dg.HourlyPartitionsDefinition(
        start_date="2026-10-01-00:00", end_date="2026-10-30-12:00", timezone="UTC"
    )
    previous = datetime(2026, 10, 30, 7, tzinfo=UTC)  # the end of the previous run's last window
    assert catch_up_range(partitions, previous) == ("2026-10-30-07:00", "2026-10-30-11:00")
    assert catch_up_range(partitions, None) == ("2026-10-26-12:00", "2026-10-30-11:00")
    assert catch_up_range(partitions, datetime(2026, 10, 20, tzinfo=UTC)) == (
        "2026-10-26-12:00",
        "2026-10-30-11:00",
    )
    # Nothing finished since the previous run: its last window again.
    assert catch_up_range(partitions, datetime(2026, 10, 30, 12, tzinfo=UTC)) == (
        "2026-10-30-11:00",
        "2026-10-30-11:00",
    )
    daily = dg.DailyPartitionsDefinition(start_date="2026-10-28", end_date="2026-10-30")
    assert catch_up_range(daily, None) == ("2026-10-28", "2026-10-29")
    not_yet = dg.DailyPartitionsDefinition(start_date="2026-10-30", end_date="2026-10-30")
    with pytest.raises(ValueError, match="PRECOG_PARTITIONS_START"):
        catch_up_range(not_yet, None)


def test_a_backfill_range_is_one_window():
    partitions = dg.HourlyPartitionsDefinition(start_date="2026-01-01-00:00", timezone="UTC")
    first = partitions.time_window_for_partition_key("2026-11-20-22:00")
    last = partitions.time_window_for_partition_key("2026-11-21-03:00")
    args = dbt_build_args((first.start, last.end))
    assert args[:6] == [*ROUTINE, "--vars"]
    assert json.loads(args[6]) == {
        "loaded_from": "2026-11-20T22:00:00+00:00",
        "loaded_to": "2026-11-21T04:00:00+00:00",
    }


def test_full_refresh_and_no_window():
    assert dbt_build_args() == ROUTINE
    assert dbt_build_args(full_refresh=True) == [*BUILD, "--full-refresh"]


def test_windows_must_be_aware_and_non_empty():
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="time zone aware"):
        landing_window_vars(moment.replace(tzinfo=None), moment)
    with pytest.raises(ValueError, match="empty"):
        landing_window_vars(moment, moment)


def test_the_run_scope_is_decided_once_for_dbt_and_the_suites():
    hour = hourly_partitions.time_window_for_partition_key("2026-03-08-05:00")
    window = (hour.start, hour.end)
    backfill = RunScope(window)
    assert backfill.build_window == backfill.validation_window == window
    assert backfill.dbt_build_args() == dbt_build_args(window)
    assert not backfill.validates_everything
    # `precog run` catches up on what landed since the last run, and validates what has not
    # been validated yet (no window: the dbt tests have no window vars either).
    catch_up = RunScope(window, catch_up=True)
    assert catch_up.build_window is None and catch_up.validation_window is None
    assert not catch_up.validates_everything
    assert catch_up.dbt_build_args() == ROUTINE
    # ... unless the last run did not succeed with this very project (`precog run` decides it):
    # then every row, so a new test sees the history and a failed one fails until fixed.
    revalidate = RunScope(window, catch_up=True, validate_everything=True)
    assert revalidate.build_window is None and revalidate.validates_everything
    assert revalidate.dbt_build_args() == [*BUILD, "--vars", '{"validate_everything": true}']
    # A full refresh rebuilds and checks everything, dbt and Great Expectations alike.
    full = RunScope(window, full_refresh=True)
    assert full.build_window is None and full.validates_everything
    assert full.dbt_build_args() == [*BUILD, "--full-refresh"]
