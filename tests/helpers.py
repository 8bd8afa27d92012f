"""What several test modules share: the independent oracle of the rollup levels (written from
docs/DESIGN.md, not from the project's macros), dbt builds, and the `precog` command line run as
a user runs it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from precog import PROJECT_ROOT
from precog.pipeline.dbt_runner import dbt_env, run_dbt
from precog.warehouse import database

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


def published_scales(cursor, relation: str) -> dict[str, int]:
    """The scale its contract publishes each numeric column of a mart at (numeric(p, s))."""
    schema, name = relation.split(".")
    cursor.execute(
        "select column_name, numeric_scale from information_schema.columns"
        " where table_schema = %s and table_name = %s and data_type = 'numeric'",
        (schema, name),
    )
    return dict(cursor.fetchall())


def at_scale(value: Decimal | None, scale: int) -> Decimal | None:
    """An exact value as a mart publishes it: rounded half away from zero, as PostgreSQL does."""
    return (
        None if value is None else Decimal(value).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)
    )


def published(row: dict, scales: dict[str, int]) -> dict:
    """An exact row as a mart with these scales publishes it."""
    return {c: at_scale(v, scales[c]) if c in scales else v for c, v in row.items()}


def unrounded_sql(target: database.Warehouse, body: str, target_path: Path) -> str:
    """A model's body (the Jinja of its .sql file) compiled on its own, without the contract that
    publishes it at its scales: the exact figures the exactness tests compare."""
    result = run_dbt(["compile", "--quiet", "--inline", body], target, target_path)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout


# What build() builds: the levels (through performance_tracking), the positions, the strategy
# mart's day buckets.
BUILT_MODELS = ["+performance_tracking", "+int_open_positions", "+int_strategy_pnl_daily"]


def build(target, tmp_path: Path, *extra: str) -> None:
    result = run_dbt(
        ["run", "--select", *BUILT_MODELS, *extra],
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


def assert_levels_equal_direct_computation(
    cursor, zone: str, target: database.Warehouse, target_path: Path
) -> str:
    """Every level, exact (performance_tracking's body compiled without its contract), equals
    the direct computation; the mart publishes those rows at its scales. Returns the exact SQL."""
    model = PROJECT_ROOT / "models" / "marts" / "performance_tracking.sql"
    exact_sql = unrounded_sql(target, model.read_text(), target_path)
    scales = published_scales(cursor, "marts.performance_tracking")
    for level, grain in LEVELS.items():
        where = f"where aggregation_level = '{level}'"
        mart = rows_by_key(cursor, f"select * from ({exact_sql}) as exact {where}")
        rows = rows_by_key(cursor, f"select * from marts.performance_tracking {where}")
        assert rows == {key: published(row, scales) for key, row in mart.items()}, level
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
    return exact_sql


def snapshot(cursor) -> list[tuple]:
    cursor.execute(
        "select * from marts.performance_tracking order by aggregation_level, period_start,"
        f" trade_id, {DIMENSIONS}"
    )
    levels = cursor.fetchall()
    cursor.execute("select * from intermediate.int_position_pnl order by position_id")
    positions = cursor.fetchall()
    cursor.execute(
        "select * from intermediate.int_strategy_pnl_daily"
        " order by period_start, strategy_id, league, market_type"
    )
    return levels + positions + cursor.fetchall()


def precog(warehouse, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        precog_command(*args), capture_output=True, text=True, env=dbt_env(warehouse)
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    return result


# --- databases for tests ----------------------------------------------------------------------


def create_database(name: str) -> database.Warehouse:
    """A fresh, migrated, empty database `name`; PGDATABASE points at it (the caller restores
    it: a fixture's monkeypatch)."""
    os.environ["PGDATABASE"] = name
    target = database.warehouse()
    database.drop_database(target, name)
    database.ensure_database(target, name)
    database.migrate(target)
    return target


@contextlib.contextmanager
def module_database(name: str) -> Iterator[database.Warehouse]:
    """A fresh, migrated database `name` for a module's fixture, dropped after it, with
    PGDATABASE pointing at it meanwhile and restored after."""
    previous = os.environ.get("PGDATABASE")
    target = create_database(name)
    try:
        yield target
    finally:
        drop_databases(target)
        if previous is None:
            os.environ.pop("PGDATABASE", None)
        else:
            os.environ["PGDATABASE"] = previous


def drop_databases(target: database.Warehouse) -> None:
    for name in (target.dbname, target.dagster_dbname):
        database.drop_database(target, name)


# --- the command line in a given environment, bounded in time -------------------------------

RUN_TIMEOUT = 900  # seconds: far above a run of a test's desk (about 2 min), far below a hang


def precog_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "precog.cli", *args]


def run_precog(env: dict[str, str], *args: str, timeout: int = RUN_TIMEOUT) -> str:
    """`precog ARGS` in environment `env`, bounded in time; its output."""
    result = subprocess.run(
        precog_command(*args), env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def assert_equals_a_full_refresh(target: database.Warehouse, tmp_path: Path) -> None:
    connection = database.connect(target)
    connection.autocommit = True
    with connection.cursor() as cursor:
        incremental = snapshot(cursor)
        build(target, tmp_path, "--full-refresh")
        assert snapshot(cursor) == incremental
    connection.close()


# --- A/B inputs ---------------------------------------------------------------------------------


def markets_frame(variants, trades=None, wins=None, pnl=None) -> pd.DataFrame:
    """Per-market A/B outcomes, one row per variant given (defaults: 2 trades, 1 win)."""
    size = len(variants)
    return pd.DataFrame(
        {
            "variant": variants,
            "closed_trades": trades if trades is not None else [2] * size,
            "winning_trades": wins if wins is not None else [1] * size,
            "realized_pnl": pnl if pnl is not None else list(range(size)),
            "stratification_key": ["NBA|moneyline"] * size,
        }
    )


def needs_chromium(skipping: str = "") -> None:
    """Skip a browser test where Debian's Chromium is missing; on CI, fail it: CI installs it."""
    from precog.bench.served import CHROMIUM

    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (`make test-tools` installs Debian's package)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(f"{skipping}{reason}")
