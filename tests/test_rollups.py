"""The eight rollup levels on a real warehouse and real dbt builds (DESIGN.md, "The eight time
levels", "Incremental runs").

Every level of marts.performance_tracking must equal a direct computation over the trade-level
rows, written here independently of the project's macros; an incremental history with late rows
must equal a full refresh; re-running must change nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orchestration import simulator
from orchestration.dbt import run_dbt

LEVELS = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "all_time": None,
}
DIMENSIONS = "strategy_id, model_id, league, market_type"
COMPONENTS = [
    "total_trades",
    "closed_trades",
    "winning_trades",
    "losing_trades",
    "contracts",
    "notional",
    "fees",
    "gross_profit",
    "gross_loss",
    "net_pnl",
    "win_rate",
    "average_edge",
    "profit_factor",
    "max_drawdown",
]
HISTORY_END = datetime(2026, 3, 1, tzinfo=UTC)


def build(target, tmp_path: Path, *extra: str) -> None:
    result = run_dbt(
        ["run", "--select", "+performance_tracking", "+int_open_positions", *extra],
        target,
        tmp_path / "dbt-target",
    )
    assert result.returncode == 0, result.stdout[-3000:]


def direct_sql(grain: str | None, zone: str, dimensions: str = DIMENSIONS) -> str:
    """A level computed straight from intermediate.int_trade_pnl, without the rollup macros, by
    `dimensions` (those of the levels, or coarser ones for a mart)."""
    # all_time: one bucket, keyed -infinity here so that joins match, null in the output.
    bucket = f"date_trunc('{grain}', execution_timestamp, '{zone}')" if grain else "'-infinity'"
    walk = f"partition by period_start, {dimensions} order by execution_timestamp, trade_id"
    return f"""
    with trades as (
        select {bucket}::timestamptz as period_start, trade_id, {dimensions}, quantity, price,
               fees, execution_timestamp, realized_pnl, edge_at_entry,
               (execution_timestamp at time zone '{zone}')::date as local_day
        from intermediate.int_trade_pnl
    ),
    walked as (
        select *, sum(coalesce(realized_pnl, 0)) over (
            {walk} rows between unbounded preceding and current row) as cumulative
        from trades
    ),
    falls as (
        select *, greatest(0, max(cumulative) over (
            {walk} rows between unbounded preceding and current row)) - cumulative as fall
        from walked
    ),
    totals as (
        select period_start, {dimensions},
            count(*) as total_trades,
            count(realized_pnl) as closed_trades,
            count(*) filter (where realized_pnl > 0) as winning_trades,
            count(*) filter (where realized_pnl < 0) as losing_trades,
            sum(quantity) as contracts,
            sum(price * quantity) as notional,
            sum(fees) as fees,
            coalesce(sum(realized_pnl) filter (where realized_pnl > 0), 0) as gross_profit,
            coalesce(sum(realized_pnl) filter (where realized_pnl < 0), 0) as gross_loss,
            coalesce(sum(realized_pnl), 0) as net_pnl,
            count(*) filter (where realized_pnl > 0)::numeric
                / nullif(count(realized_pnl), 0) as win_rate,
            sum(edge_at_entry) filter (where realized_pnl is not null)
                / nullif(count(edge_at_entry) filter (where realized_pnl is not null), 0)
                as average_edge,
            coalesce(sum(realized_pnl) filter (where realized_pnl > 0), 0)
                / nullif(-sum(realized_pnl) filter (where realized_pnl < 0), 0)
                as profit_factor,
            max(fall) as max_drawdown
        from falls
        group by period_start, {dimensions}
    ),
    daily as (
        select period_start, {dimensions}, local_day, sum(realized_pnl) as pnl
        from trades where realized_pnl is not null
        group by period_start, {dimensions}, local_day
    ),
    calendar as (
        select period_start, {dimensions}, day::date as local_day
        from (
            select period_start, {dimensions}, min(local_day) as first_day,
                   max(local_day) as last_day
            from daily group by period_start, {dimensions}
        ) as spans
        cross join generate_series(first_day, last_day, interval '1 day') as day
    ),
    sharpe as (
        select period_start, {dimensions},
            case when count(*) >= 2 and stddev_samp(coalesce(pnl, 0)) > 0 then
                avg(coalesce(pnl, 0)) / stddev_samp(coalesce(pnl, 0)) * sqrt(365::numeric)
            end as sharpe_ratio
        from calendar left join daily using (period_start, {dimensions}, local_day)
        group by period_start, {dimensions}
    )
    select nullif(period_start, '-infinity') as period_start, {dimensions},
        {", ".join(COMPONENTS)},
        {"sharpe.sharpe_ratio" if grain != "hour" else "null"} as sharpe_ratio_direct
    from totals left join sharpe using (period_start, {dimensions})
    """


def rows_by_key(cursor, sql: str) -> dict[tuple, dict]:
    cursor.execute(sql)
    names = [column.name for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {
        (
            row["period_start"],
            row["strategy_id"],
            row["model_id"],
            row["league"],
            row["market_type"],
        ): row
        for row in rows
    }


def expected_period_end(grain: str, start: datetime, zone: str) -> datetime:
    """The next bucket start, by calendar arithmetic in Python."""
    if grain == "hour":
        return start + timedelta(hours=1)
    local = start.astimezone(ZoneInfo(zone)).date()
    if grain == "day":
        following = local + timedelta(days=1)
    elif grain == "week":
        following = local + timedelta(days=7)
    else:
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        index = local.year * 12 + local.month - 1 + months
        following = date(index // 12, index % 12 + 1, 1)
    return datetime.combine(following, datetime.min.time(), ZoneInfo(zone))


def assert_levels_equal_direct_computation(cursor, zone: str) -> None:
    for level, grain in LEVELS.items():
        mart = rows_by_key(
            cursor,
            f"select * from marts.performance_tracking where aggregation_level = '{level}'",
        )
        direct = rows_by_key(cursor, direct_sql(grain, zone))
        assert mart.keys() == direct.keys(), level
        assert mart, level
        for key, row in mart.items():
            expected = direct[key]
            for column in COMPONENTS:
                assert row[column] == expected[column], (level, key, column)
            if expected["sharpe_ratio_direct"] is None:
                assert row["sharpe_ratio"] is None, (level, key)
            else:
                assert row["sharpe_ratio"] == pytest.approx(
                    expected["sharpe_ratio_direct"], rel=Decimal("1e-12")
                ), (level, key)
            if grain is None:
                assert row["period_start"] is None and row["period_end"] is None
            else:
                assert row["period_end"] == expected_period_end(grain, row["period_start"], zone)


def snapshot(cursor) -> list[tuple]:
    cursor.execute(
        "select * from marts.performance_tracking order by aggregation_level, period_start,"
        f" trade_id, {DIMENSIONS}"
    )
    levels = cursor.fetchall()
    cursor.execute("select * from intermediate.int_position_pnl order by position_id")
    return levels + cursor.fetchall()


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_every_level_equals_a_direct_computation(warehouse, cursor, tmp_path, monkeypatch, zone):
    monkeypatch.setenv("PRECOG_REPORTING_TIMEZONE", zone)
    # Across the end of daylight saving time in New York (2025-11-02) and a year boundary.
    simulator.simulate_history(trades=6000, seed=11, end=datetime(2026, 1, 10, tzinfo=UTC))
    simulator.add_bad_rows(18)
    build(warehouse, tmp_path)
    assert_levels_equal_direct_computation(cursor, zone)

    # Reconciliation: every level holds the same total P&L, fees and trade count.
    cursor.execute(
        "select aggregation_level, sum(net_pnl), sum(fees), sum(total_trades)"
        " from marts.performance_tracking group by aggregation_level"
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

    incremental = snapshot(cursor)
    build(warehouse, tmp_path)  # nothing new landed: nothing changes
    assert snapshot(cursor) == incremental
    build(warehouse, tmp_path, "--full-refresh")
    assert snapshot(cursor) == incremental
