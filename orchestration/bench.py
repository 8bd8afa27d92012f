"""`precog bench`: figures measured side by side in one run, with their data volumes.

Runs in its own database (`<database>_bench`, dropped and recreated) on the warehouse in use,
so a benchmark never touches the data of the pipeline. For each history size it measures:

- load: generating and loading the simulated history (trades/s);
- floor: one SQL statement that computes trade P&L from raw and aggregates it by hour and
  dimensions, the least work any rollup must do;
- full build: the rollup models built from scratch (`dbt run --full-refresh`), as a ratio of
  the floor;
- hourly run: one more simulated hour (with its late rows) landed, then the incremental build;
- size: rows and bytes of each level against raw.trades.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from orchestration import database, simulator
from orchestration.dbt import run_dbt

ROLLUPS = "+performance_tracking"
LEVEL_TABLES = [
    "intermediate.int_trade_pnl",
    "intermediate.int_pnl_hourly",
    "intermediate.int_pnl_daily",
    "intermediate.int_pnl_weekly",
    "intermediate.int_pnl_monthly",
    "intermediate.int_pnl_quarterly",
    "intermediate.int_pnl_yearly",
    "intermediate.int_pnl_all_time",
]
# The history ends long enough ago that appended hours are never in the future.
HISTORY_END = datetime(2026, 6, 1, tzinfo=UTC)

FLOOR_SQL = """
create temporary table floor_hourly as
with entries as (
    select position_id, sum(quantity) as quantity, sum(price * quantity) as cost,
           sum(fees) as fees
    from raw.trades where action = 'entry' group by position_id
),
positions as (
    select distinct on (position_id) position_id, market_id, strategy_id, model_id
    from raw.positions order by position_id, row_start_ts
),
markets as (
    select distinct on (market_id) market_id, league, market_type
    from raw.markets order by market_id, row_start_ts
)
select
    date_trunc('hour', trades.execution_timestamp, 'UTC') as hour,
    positions.strategy_id, positions.model_id, markets.league, markets.market_type,
    count(*) as total_trades,
    sum(trades.quantity) as contracts,
    sum(trades.price * trades.quantity) as notional,
    sum(trades.fees) as fees,
    sum(case when trades.action <> 'entry' then
        ((trades.price * entries.quantity - entries.cost) * trades.quantity
            - entries.fees * trades.quantity) / entries.quantity - trades.fees
    end) as net_pnl
from raw.trades
join entries using (position_id)
join positions using (position_id)
join markets using (market_id)
group by 1, 2, 3, 4, 5
"""


@dataclass
class SizeResult:
    trades: int
    load_seconds: float = 0.0
    raw_rows: int = 0
    floor_seconds: float = 0.0
    full_build_seconds: float = 0.0
    full_build_models_seconds: float = 0.0
    hourly_trades: int = 0
    hourly_late_trades: int = 0
    hourly_run_seconds: float = 0.0
    hourly_models_seconds: float = 0.0
    sizes: list[tuple[str, int, int]] = field(default_factory=list)


def _timed_dbt(
    args: list[str], target: database.Warehouse, target_path: Path
) -> tuple[float, float]:
    """Seconds end to end, and seconds spent in the models themselves (from run_results)."""
    started = time.perf_counter()
    result = run_dbt(args, target, target_path)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return elapsed, sum(node["execution_time"] for node in results)


def _fresh_database(base: database.Warehouse) -> database.Warehouse:
    bench = replace(base, dbname=f"{base.dbname}_bench")
    admin = database.connect(base, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'drop database if exists "{bench.dbname}" with (force)')
    admin.close()
    database.migrate(bench)
    return bench


def measure(trades: int, base: database.Warehouse, seed: int = 1) -> SizeResult:
    target = _fresh_database(base)
    result = SizeResult(trades=trades)
    with tempfile.TemporaryDirectory(prefix="precog-bench-") as scratch:
        target_path = Path(scratch)
        report = simulator.simulate_history(trades, seed, HISTORY_END, target=target)
        result.trades, result.load_seconds = report.trades, report.seconds
        result.raw_rows = sum(report.rows.values())

        connection = database.connect(target)
        connection.autocommit = True
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL)
            result.floor_seconds = time.perf_counter() - started

            result.full_build_seconds, result.full_build_models_seconds = _timed_dbt(
                ["run", "--select", ROLLUPS, "--full-refresh"], target, target_path
            )

            hour = simulator.append_hours(1, target=target)
            result.hourly_trades, result.hourly_late_trades = hour.trades, hour.late_trades
            result.hourly_run_seconds, result.hourly_models_seconds = _timed_dbt(
                ["run", "--select", ROLLUPS], target, target_path
            )

            for table in ["raw.trades", *LEVEL_TABLES]:
                cursor.execute(f"select count(*), pg_total_relation_size('{table}') from {table}")
                rows, size = cursor.fetchone()
                result.sizes.append((table, rows, size))
        connection.close()
    return result


def report(results: list[SizeResult]) -> str:
    lines = [
        "| history | load | floor | full build (models only) | ratio to floor | hourly run "
        "(models only) | hour's trades (late) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.trades:,} trades, {r.raw_rows:,} raw rows "
            f"| {r.load_seconds:.1f} s ({r.trades / r.load_seconds:,.0f} trades/s) "
            f"| {r.floor_seconds:.1f} s "
            f"| {r.full_build_seconds:.1f} s ({r.full_build_models_seconds:.1f} s) "
            f"| {r.full_build_seconds / r.floor_seconds:.2f}x "
            f"({r.full_build_models_seconds / r.floor_seconds:.2f}x) "
            f"| {r.hourly_run_seconds:.1f} s ({r.hourly_models_seconds:.1f} s) "
            f"| {r.hourly_trades:,} ({r.hourly_late_trades:,}) |"
        )
    for r in results:
        raw_rows, raw_bytes = r.sizes[0][1], r.sizes[0][2]
        lines += [
            "",
            f"Sizes at {r.trades:,} trades:",
            "",
            "| relation | rows | rows / raw.trades | MB | bytes / raw.trades |",
            "| --- | --- | --- | --- | --- |",
        ]
        for table, rows, size in r.sizes:
            lines.append(
                f"| {table} | {rows:,} | {rows / raw_rows:.3f} | {size / 2**20:,.1f} "
                f"| {size / raw_bytes:.3f} |"
            )
    return "\n".join(lines)


def run(sizes: list[int], seed: int = 1) -> str:
    base = database.prepare()
    results = []
    for trades in sizes:
        results.append(measure(trades, base, seed))
        print(report(results[-1:]), flush=True)
    return report(results)
