"""The eight rollup levels on a real warehouse and real dbt builds (DESIGN.md, "The eight time
levels", "Incremental runs").

Every level of marts.performance_tracking must equal a direct computation over the trade-level
rows, written here independently of the project's macros; an incremental history with late rows
must equal a full refresh; re-running must change nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from precog import simulator
from precog.pipeline.dbt_runner import run_dbt
from tests.helpers import (
    LEVELS,
    assert_equals_a_full_refresh,
    assert_levels_equal_direct_computation,
    build,
    snapshot,
)

HISTORY_END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_every_level_equals_a_direct_computation(warehouse, cursor, tmp_path, monkeypatch, zone):
    monkeypatch.setenv("PRECOG_REPORTING_TIMEZONE", zone)
    # Across the end of daylight saving time in New York (2025-11-02) and a year boundary.
    simulator.simulate_history(trades=6000, seed=11, end=datetime(2026, 1, 10, tzinfo=UTC))
    simulator.add_bad_rows(18)
    build(warehouse, tmp_path)
    exact = assert_levels_equal_direct_computation(cursor, zone, warehouse, tmp_path / "exact")

    # Reconciliation: every level holds the same total P&L, fees and trade count, exactly (the
    # published figures, each rounded to the cent, add up to within cents of each other).
    cursor.execute(
        "select aggregation_level, sum(net_pnl), sum(fees), sum(total_trades)"
        f" from ({exact}) as exact group by aggregation_level"
    )
    totals = {level: rest for level, *rest in cursor.fetchall()}
    assert set(totals) == {"trade", *LEVELS}
    assert len({tuple(value) for value in totals.values()}) == 1


def test_incremental_history_with_late_rows_equals_a_full_refresh(warehouse, cursor, tmp_path):
    rng = random.Random(7)
    simulator.simulate_history(trades=20000, seed=rng.randrange(1000), end=HISTORY_END)
    # Five positions whose only entry has not landed yet: their closing trades wait in quarantine.
    cursor.execute(
        """
        delete from raw.trades where trade_id in (
            select min(trade_id) from raw.trades
            group by position_id
            having count(*) filter (where action = 'entry') = 1 and count(*) > 1
            order by position_id limit 5
        )
        returning trade_id, position_id, action, quantity, price, fees, execution_timestamp
        """
    )
    missing_entries = cursor.fetchall()
    build(warehouse, tmp_path)
    cursor.execute(
        "select trade_id from staging.base_trades"
        " where quarantine_reason = 'closing_without_entry' and position_id = any(%s)",
        ([entry[1] for entry in missing_entries],),
    )
    held_back = [trade_id for (trade_id,) in cursor.fetchall()]
    assert len(held_back) >= 5

    late_rows = 0
    for slice_number in range(4):
        cursor.execute("select coalesce(max(loaded_at), '-infinity') from raw.trades")
        previous_load = cursor.fetchone()[0]
        cursor.execute("select simulated_through from precog_meta.simulation")
        window_start = cursor.fetchone()[0]
        simulator.append_hours(rng.randint(2, 8))
        if slice_number == 1:
            simulator.add_bad_rows(9)
            cursor.executemany(
                "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
                " execution_timestamp) values (%s, %s, %s, %s, %s, %s, %s)",
                missing_entries,
            )
        cursor.execute(
            "select count(*) from raw.trades where loaded_at > %s and execution_timestamp < %s",
            (previous_load, window_start - timedelta(hours=1)),
        )
        late_rows += cursor.fetchone()[0]
        build(warehouse, tmp_path)
    assert late_rows > 0, "the slices carried no late rows: the test would prove nothing"
    # The closing trades held back until their entry landed are counted now.
    cursor.execute(
        "select count(*) from intermediate.int_trade_pnl where trade_id = any(%s)", (held_back,)
    )
    assert cursor.fetchone()[0] == len(held_back)

    # The change log rebuilt alone keeps its capture history (macros/incremental.sql,
    # previous_capture): new to the models downstream and the live views is only what landed
    # since its last capture, and the next build processes that.
    simulator.append_hours(2)
    cursor.execute(
        "select captured_at, complete_before from intermediate.int_position_changes"
        " order by captured_at desc limit 1"
    )
    last_captured, complete_before = cursor.fetchone()
    cursor.execute(
        "select distinct on (position_id) position_id, captured_at"
        " from intermediate.int_position_changes order by position_id, captured_at desc"
    )
    captures = dict(cursor.fetchall())
    assert len(set(captures.values())) > 1  # several captures to keep apart
    rebuilt = run_dbt(
        ["run", "--full-refresh", "--select", "int_position_changes"], warehouse, tmp_path
    )
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    cursor.execute(
        "select position_id from intermediate.int_position_changes where captured_at > %s",
        (last_captured,),
    )
    new = {position_id for (position_id,) in cursor.fetchall()}
    cursor.execute(
        """
        select position_id from raw.trades where loaded_at >= %(since)s
        union select position_id from raw.positions where loaded_at >= %(since)s
        union select positions.position_id from raw.edges
            join raw.positions using (market_id, model_id) where edges.loaded_at >= %(since)s
        """,
        {"since": complete_before},
    )
    assert new and new == {position_id for (position_id,) in cursor.fetchall()}
    cursor.execute(
        "select position_id, captured_at from intermediate.int_position_changes"
        " where captured_at <= %s",
        (last_captured,),
    )
    kept = dict(cursor.fetchall())  # each position's own last capture, not the log's last
    assert kept and kept == {key: captures[key] for key in captures.keys() - new}
    build(warehouse, tmp_path)

    incremental = snapshot(cursor)
    build(warehouse, tmp_path)  # nothing new landed: nothing changes
    assert snapshot(cursor) == incremental
    build(warehouse, tmp_path, "--full-refresh")
    assert snapshot(cursor) == incremental


def dbt_test_fails(selection: str, warehouse, tmp_path) -> bool:
    """Whether the dbt tests `selection` picks find a failing row (compiled in tmp_path)."""
    result = run_dbt(["test", "--select", selection], warehouse, tmp_path / "dbt-target")
    assert result.returncode in (0, 1), result.stdout[-2000:]
    return result.returncode == 1 and "Got 1 result" in result.stdout


def drop_not_null(cursor, table: str, column: str) -> None:
    """`column` of `table` may be null again: neither NOT NULL nor the CHECK behind it
    (macros/check_constraints.sql, not_null_columns) refuse one."""
    cursor.execute(
        "select conname from pg_constraint where conrelid = %s::regclass"
        " and conname like 'not\\_null\\_%%'",
        (table,),
    )
    for (constraint,) in cursor.fetchall():
        cursor.execute(f"alter table {table} drop constraint {constraint}")
    cursor.execute(f"alter table {table} alter column {column} drop not null")


def test_a_grain_is_the_databases_to_keep_and_its_test_says_so(warehouse, cursor, tmp_path):
    """The levels' grain is a unique index (dbt_project.yml): a duplicate bucket cannot be
    written, and the grain test, which then reads only the rows the index cannot see (its nulls
    are distinct: two buckets with a null in the grain), still fails on them, and without it.
    The grain's columns are NOT NULL too (macros/check_constraints.sql), so it reads nothing."""
    simulator.simulate_history(trades=2000, seed=5, end=HISTORY_END)
    build(warehouse, tmp_path)
    hourly = "intermediate.int_pnl_hourly"

    def grain_test_fails() -> bool:
        return dbt_test_fails(
            "int_pnl_hourly,test_name:unique_combination_of_columns", warehouse, tmp_path
        )

    assert not grain_test_fails()
    [compiled] = (tmp_path / "dbt-target" / "compiled").rglob(
        "_rollups__models.yml/unique_combination_of_columns_*.sql"
    )
    assert "where false" in compiled.read_text()
    with pytest.raises(psycopg2.errors.UniqueViolation):
        cursor.execute(f"insert into {hourly} select * from {hourly} limit 1")

    null_in_the_grain = (
        f"insert into {hourly} select period_start, period_end, null, model_id, league,"
        f" market_type, total_trades, closed_trades, winning_trades, losing_trades, contracts,"
        f" notional, fees, gross_profit, gross_loss, net_pnl, edge_sum, edge_count, peak_pnl,"
        f" trough_pnl, max_drawdown, first_pnl_day, last_pnl_day, daily_pnl_sum_squares"
        f" from (select * from {hourly} limit 1) as bucket cross join generate_series(1, 2)"
    )
    with pytest.raises(psycopg2.errors.NotNullViolation):
        cursor.execute(null_in_the_grain)
    drop_not_null(cursor, hourly, "strategy_id")
    cursor.execute(null_in_the_grain)
    assert grain_test_fails()

    cursor.execute(f"delete from {hourly} where strategy_id is null")
    cursor.execute(
        "select indexrelid::regclass::text from pg_index"
        " where indrelid = %s::regclass and indisunique",
        (hourly,),
    )
    cursor.execute(f"drop index {cursor.fetchone()[0]}")
    assert not grain_test_fails()
    cursor.execute(f"insert into {hourly} select * from {hourly} limit 1")
    assert grain_test_fails()


def test_the_database_keeps_every_level_and_trade_in_range(warehouse, cursor, tmp_path):
    """What the whole-history tests of marts.performance_tracking check, PostgreSQL keeps on
    each part at every write (macros/check_constraints.sql): a level row or a trade out of range
    or without a dimension fails the write, so no build leaves one behind; a full refresh keeps
    the constraints."""
    simulator.simulate_history(trades=2000, seed=5, end=HISTORY_END)
    build(warehouse, tmp_path)
    # The planner has statistics of every table just built (macros/statistics.sql).
    cursor.execute(
        "select count(distinct tablename) from pg_stats where schemaname = 'intermediate'"
        " and tablename in ('int_trade_pnl', 'int_position_changes', 'int_pnl_hourly')"
    )
    assert cursor.fetchone()[0] == 3
    breaches = {
        f"intermediate.int_pnl_{level}": [
            "fees = -0.01",
            "gross_profit = -0.01",
            "gross_loss = 0.01",
            "max_drawdown = -0.01",
            "total_trades = 0",
            "closed_trades = total_trades + 1",
            "winning_trades = closed_trades + 1",
            "losing_trades = -1",
            "league = null",
            "fees = null",
        ]
        for level in LEVELS
    }
    breaches["intermediate.int_pnl_hourly"].append("period_start = null")
    breaches["intermediate.int_trade_pnl"] = ["fees = -0.01", "model_id = null", "trade_id = null"]
    breaches["intermediate.int_position_pnl"] = ["open_quantity = -1", "position_id = null"]
    breaches["intermediate.int_position_changes"] = ["position_id = null", "captured_at = null"]

    def refused(table: str, breach: str) -> bool:
        try:
            cursor.execute(
                f"update {table} set {breach} where ctid = (select ctid from {table} limit 1)"
            )
        except (psycopg2.errors.CheckViolation, psycopg2.errors.NotNullViolation):
            return True
        return False

    for _ in range(2):
        assert {
            (table, breach): refused(table, breach)
            for table, values in breaches.items()
            for breach in values
        } == {(table, breach): True for table, values in breaches.items() for breach in values}
        build(warehouse, tmp_path, "--full-refresh")

    # A not_null test of a NOT NULL column reads nothing (macros/overrides/test_not_null.sql);
    # without the constraint it reads the table, and finds the null.
    def not_null_test_fails() -> bool:
        return dbt_test_fails("int_position_changes,test_name:not_null", warehouse, tmp_path)

    assert not not_null_test_fails()
    compiled = list(
        (tmp_path / "dbt-target" / "compiled").rglob("not_null_int_position_changes_*.sql")
    )
    assert len(compiled) == 2 and all("and false" in path.read_text() for path in compiled)
    changes = "intermediate.int_position_changes"
    drop_not_null(cursor, changes, "position_id")
    cursor.execute(
        f"update {changes} set position_id = null where ctid = (select min(ctid) from {changes})"
    )
    assert not_null_test_fails()


def test_a_model_never_passes_its_parents_watermark(warehouse, cursor, tmp_path):
    """The daily job can run while the hourly job left int_trade_pnl behind (a failed test
    skips it): the day buckets built from its stale rows keep their watermark at its own, so
    they are rebuilt once it catches up, and end equal to a full refresh."""
    simulator.simulate_history(trades=3000, seed=3, end=HISTORY_END)
    build(warehouse, tmp_path)
    simulator.append_hours(3)
    target = tmp_path / "dbt-target"
    for selection in ("int_position_changes", "int_strategy_pnl_daily int_pnl_daily"):
        ran = run_dbt(["run", "--select", *selection.split()], warehouse, target)
        assert ran.returncode == 0, ran.stdout[-2000:]

    cursor.execute("select model, captured_through from precog_meta.build_watermarks")
    watermarks = dict(cursor.fetchall())
    cursor.execute("select max(captured_at) from intermediate.int_position_changes")
    assert watermarks["int_trade_pnl"] < cursor.fetchone()[0]  # the capture it has not processed
    for model in ("int_strategy_pnl_daily", "int_pnl_daily"):
        assert watermarks[model] == watermarks["int_trade_pnl"], model

    build(warehouse, tmp_path)
    assert_equals_a_full_refresh(warehouse, tmp_path)
