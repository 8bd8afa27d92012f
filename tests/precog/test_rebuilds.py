"""What an incremental model cannot learn by increments, it rebuilds whole: a populated raw is
never replaced without being told, and when it is (and when the reporting zone changes), the
next run rebuilds what depends on it and equals a full refresh; dbt by hand refuses increments.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from precog import simulator
from precog.pipeline.dbt_runner import dbt_env, run_dbt
from tests.helpers import (
    assert_equals_a_full_refresh,
    assert_levels_equal_direct_computation,
    build,
    precog_command,
    run_precog,
)

END = "2026-02-01"


def test_a_populated_raw_is_replaced_only_when_told_and_then_rebuilt(
    warehouse, cursor, tmp_path, monkeypatch
):
    env = dbt_env(warehouse)
    run_precog(env, "simulate", "--trades", "1500", "--seed", "4", "--end", END)
    build(warehouse, tmp_path)  # the levels, in UTC
    refused = subprocess.run(
        precog_command("simulate", "--trades", "800", "--seed", "7", "--end", END),
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1
    assert "--replace" in refused.stderr and "already holds" in refused.stderr
    cursor.execute("select count(*) from raw.trades")
    trades = cursor.fetchone()[0]
    assert trades > 1000  # untouched

    run_precog(env, "simulate", "--trades", "800", "--seed", "7", "--end", END, "--replace")
    # ... and the zone changes too (to one with a half-hour offset), through Dagster.
    monkeypatch.setenv("PRECOG_REPORTING_TIMEZONE", "Asia/Kolkata")
    run_precog(dbt_env(warehouse), "run")
    cursor.execute("select count(*) from staging.stg_trades")
    assert cursor.fetchone()[0] < trades
    assert_levels_equal_direct_computation(cursor, "Asia/Kolkata", warehouse, tmp_path / "exact")
    assert_equals_a_full_refresh(warehouse, tmp_path)


def test_dbt_by_hand_refuses_increments_after_the_zone_changes(
    warehouse, cursor, tmp_path, monkeypatch
):
    """The refresh is decided where the run's dbt arguments are built (precog run, above);
    dbt started by hand without --full-refresh says why it must be given, and builds nothing."""
    simulator.simulate_history(1500, 4, datetime(2026, 2, 1, tzinfo=UTC), target=warehouse)
    build(warehouse, tmp_path)  # in UTC
    monkeypatch.setenv("PRECOG_REPORTING_TIMEZONE", "Asia/Kolkata")
    refused = run_dbt(["run", "--select", "+performance_tracking"], warehouse, tmp_path / "t")
    assert refused.returncode != 0
    assert "must be rebuilt whole: the reporting time zone changed from UTC to Asia/Kolkata" in (
        refused.stdout
    )
    build(warehouse, tmp_path, "--full-refresh")
    assert_levels_equal_direct_computation(cursor, "Asia/Kolkata", warehouse, tmp_path / "exact")
