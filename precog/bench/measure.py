"""`precog bench`: figures measured side by side in one run, with their data volumes.

Runs in its own database (`<database>_bench`, dropped and recreated, with its Dagster instance)
on the warehouse in use, so a benchmark never touches the data of the pipeline. For each history
size it measures:

- load: generating and loading the simulated history (trades/s);
- floor: one SQL statement that computes trade P&L from raw and aggregates it by hour and
  dimensions, the least work any rollup must do;
- the jobs a user waits for (jobs.py), `precog run` end to end in a process of its own: the
  first full build (against the sum of the floors of what it computes: the rollups' floor and
  each dashboard panel's answer on demand), a run with nothing new, then one hour landed
  twice (the first after the build, then the steady state: the hourly and the daily job as
  Dagster recorded them, with their slowest steps);
- size: rows and bytes of each level against raw.trades;
- dashboard (issue 4): each dashboard query (analyses/*.sql, compiled by dbt) timed as role
  bi_reader, beside the same answer computed on demand from the staging views (and raw) in the
  same run, checked equal to the mart's;
- live view: trades landed after the last run, without a run, then marts.live_pnl_today timed
  as bi_reader and checked to show them; then the served dashboard (served.py).

Edit nothing of the project while it runs: `precog run` validates every row after a change of
the project, and the hour it times would then test the whole history.

The history ends three hours before the bench starts, so that "today" and the dashboard's last
30 days hold trades, and the three hours appended later are still in the past.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from precog import PROJECT_ROOT, simulator
from precog.bench import jobs, plot
from precog.bench import served as served_dashboard
from precog.pipeline.dbt_runner import run_dbt
from precog.stats import ab_io, ab_testing
from precog.warehouse import bookkeeping, database, embedded

GROWTH_PLOT = PROJECT_ROOT / "docs" / "bench_growth.png"  # docs/benchmarks.md shows it
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


def history_end(target: database.Warehouse) -> dt.datetime:
    """Three hours before the current hour: the two hourly runs' hours and the live view's hour
    are appended after it, and all must be in the past. The warehouse's clock, whose today the
    live view shows."""
    connection = database.connect(target)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select now()")
            now = cursor.fetchone()[0].astimezone(dt.UTC)
    finally:
        connection.close()
    return now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=3)


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


# --- the dashboard (issue 4) -----------------------------------------------------------------

# The dashboard's queries, one per panel (analyses/*.sql), in the order they are reported.
DASHBOARD_QUERIES = [
    "daily_pnl",
    "current_positions",
    "strategy_comparison",
    "calibration_curve",
    "market_overview",
    "ab_test_results",
]
# The on-demand answers run with the planner settings of what they stand for. Those pricing
# every trade (trade_pnl() over the whole staging views) run as int_trade_pnl's full build, nested
# loops off: the views' filters leave the planner guessing one row, and it would nest loops over
# whole views. The others look positions up one by one, as its increments do, and need nested
# loops: without them, on PostgreSQL 16 at 1M trades, daily_pnl ran over 90 s instead of 2.8 s
# and current_positions 118.5 s instead of 0.3 s.
PRICE_EVERY_TRADE = {"market_overview", "ab_test_results"}
DASHBOARD_MARTS = [
    "marts.mv_daily_pnl",
    "marts.mv_current_positions",
    "marts.mv_strategy_performance",
    "marts.mv_model_accuracy",
    "marts.model_calibration_bins",
    "marts.mv_market_edges",
    "marts.mv_ab_test_results",
]
# How often a query runs: (runs, seconds) pairs; another run while some pair has fewer runs
# and the runs so far took less time. A mart query (warm): 10 runs, then up to 200 or 2 s,
# whichever first. An on-demand query: 2 runs, a 3rd if they took under 5 minutes, up to 5
# within 30 s.
Policy = list[tuple[int, float]]
MART_RUNS: Policy = [(10, math.inf), (200, 2.0)]
ON_DEMAND_RUNS: Policy = [(2, math.inf), (3, 300.0), (5, 30.0)]
# Trades just landed for the live view: exits of one contract executed now.
LIVE_EXITS = 5


@dataclass
class Jobs:
    """`precog run` (jobs.py) on the loaded desk, four times in a row."""

    first_build: jobs.PipelineRun  # everything, from scratch
    nothing_new: jobs.PipelineRun  # right after: skipped from the bookkeeping
    # One hour landed: the first after the build (it tests what landed since the build began:
    # precog_meta.last_validation), then the steady state.
    after_build: jobs.PipelineRun
    hour: jobs.PipelineRun
    hour_trades: int  # the steady state's hour: its trades, of which late ones
    hour_late_trades: int

    def rollup_models_seconds(self) -> float:
        """dbt's seconds for the eight levels in the first build."""
        return self.first_build.models_seconds([t.replace(".", "/") for t in LEVEL_TABLES])


def measure_jobs(target: database.Warehouse) -> Jobs:
    first_build = jobs.precog_run(target)
    nothing_new = jobs.precog_run(target)
    simulator.append_hours(1, target=target)
    after_build = jobs.precog_run(target)
    hour = simulator.append_hours(1, target=target)
    steady = jobs.precog_run(target)
    return Jobs(first_build, nothing_new, after_build, steady, hour.trades, hour.late_trades)


@dataclass
class SizeResult:
    trades: int
    load_seconds: float = 0.0
    raw_rows: int = 0
    floor_seconds: float = 0.0
    jobs: Jobs | None = None
    sizes: list[tuple[str, int, int]] = field(default_factory=list)
    dashboard: Dashboard | None = None

    def floors_seconds(self) -> float:
        """The sum of the floors of what the first build computes: the rollups' floor, and each
        dashboard panel's answer computed on demand (p50)."""
        return self.floor_seconds + sum(q.on_demand.p50 for q in self.dashboard.queries)


def _dbt(args: list[str], target: database.Warehouse, target_path: Path) -> None:
    """dbt in the bench's database; a failure raises with dbt's last lines."""
    result = run_dbt(args, target, target_path)
    if result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{result.stdout[-2000:]}")


def _fresh_database(base: database.Warehouse) -> database.Warehouse:
    bench = replace(base, dbname=f"{base.dbname}_bench")
    database.drop_database(base, bench.dagster_dbname)
    database.drop_database(base, bench.dbname)
    database.migrate(bench)
    return bench


# --- the dashboard: timing, checks, the live view ----------------------------------------------


@dataclass
class Timing:
    """Seconds of each run of one query, client side (execute and fetch every row)."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples)
        if len(ordered) == 1:
            return ordered[0]
        return statistics.quantiles(ordered, n=100, method="inclusive")[round(q) - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def max(self) -> float:
        return max(self.samples)


@dataclass
class DashboardQuery:
    name: str
    rows: int
    mart: Timing
    on_demand: Timing
    same_answer: bool
    difference: str = ""  # the first difference, if any
    server: tuple[float, float] = (0.0, 0.0)  # planning and execution seconds, server side


@dataclass
class LiveView:
    landed_hour_trades: int  # an appended hour (with its late trades), landed without a run
    landed_now: int  # exits of one contract executed now
    pending_trades: int  # trades landed since the last capture, which the view reprices
    pending_positions: int
    materialized_today: int  # today's trades as the last run built them (the live view then)
    live_today: int  # today's trades in marts.live_pnl_today
    on_demand_today: int  # today's valid trades computed from the staging views
    same_as_on_demand: bool  # the view's totals for today equal the on-demand answer's
    timing: Timing
    server: tuple[float, float]  # planning and execution seconds, server side
    plan: str  # EXPLAIN ANALYZE of the view, as bi_reader


@dataclass
class Dashboard:
    build_seconds: float | None  # None: built by `precog run` (Jobs)
    mart_rows: list[tuple[str, int]]
    queries: list[DashboardQuery]
    live: LiveView | None = None
    served: served_dashboard.Served | None = None


def bi_reader(target: database.Warehouse):
    """A connection as role bi_reader, what BI tools use (read-only, no JIT: migration 0005)."""
    connection = database.connect(replace(target, user="bi_reader", password=""))
    connection.autocommit = True
    return connection


def timed(run: Callable[[], list], policy: Policy) -> tuple[Timing, list]:
    """Run `run` as often as `policy` says; the rows of the first run."""
    timing, first = Timing(), None
    started = time.perf_counter()
    while any(
        len(timing.samples) < runs and time.perf_counter() - started < seconds
        for runs, seconds in policy
    ):
        began = time.perf_counter()
        rows = run()
        timing.samples.append(time.perf_counter() - began)
        first = rows if first is None else first
    return timing, first


def _fetch(cursor, sql: str) -> Callable[[], list]:
    def run() -> list:
        cursor.execute(sql)
        return cursor.fetchall()

    return run


def server_time(cursor, sql: str, runs: int = 5) -> tuple[float, float]:
    """Median planning and execution seconds of `sql` on the server (EXPLAIN ANALYZE without
    per-node timing): what the latency is, less the rows' transfer and decoding."""
    planning, execution = [], []
    for _ in range(runs):
        cursor.execute(f"explain (analyze, timing off, summary on) {sql}")
        lines = [line for (line,) in cursor.fetchall()]
        for line in lines:
            if line.startswith("Planning Time:"):
                planning.append(float(line.split()[2]) / 1e3)
            elif line.startswith("Execution Time:"):
                execution.append(float(line.split()[2]) / 1e3)
    return statistics.median(planning), statistics.median(execution)


def build_marts(target: database.Warehouse, target_path: Path) -> float:
    """The marts and everything they read, as the daily job builds them: dbt, then the A/B
    analysis (the Dagster asset's own functions) into marts.ab_test_results, then the mart that
    serves it. Seconds."""
    started = time.perf_counter()
    _dbt(
        [
            "run",
            "--select",
            "+path:models/marts",
            "+int_ab_market_outcomes",
            "--exclude",
            "mv_ab_test_results",
        ],
        target,
        target_path,
    )
    fill_ab_test_results(target)
    _dbt(["run", "--select", "mv_ab_test_results"], target, target_path)
    return time.perf_counter() - started


def fill_ab_test_results(target: database.Warehouse) -> None:
    """What the Dagster asset marts/ab_test_results does, with its functions."""
    with database.transaction(target) as cursor:
        experiments, outcomes = ab_io.read_inputs(cursor)
    results = ab_testing.analyze(outcomes, experiments, computed_at=dt.datetime.now(dt.UTC))
    ab_io.write_results(target, results, experiments)


# The same answers computed on demand, from the staging views by the project's own macros
# (analyses/on_demand/on_demand_<name>.sql): what the bench compares the marts with.
ON_DEMAND = "on_demand_"


def compile_analyses(target: database.Warehouse, target_path: Path) -> dict[str, str]:
    """The dashboard's queries and their on-demand answers as dbt compiles them (analyses/,
    vars at their defaults), by name."""
    _dbt(["compile", "--select", "path:analyses"], target, target_path)
    folder = target_path / "compiled" / "precog" / "analyses"
    return {path.stem: path.read_text() for path in folder.rglob("*.sql")}


def outcomes_on_demand(analyses: dict[str, str]) -> str:
    """The on-demand answer of intermediate.int_ab_market_outcomes
    (analyses/on_demand/on_demand_ab_market_outcomes.sql), as a relation the asset can read."""
    return f"({analyses[ON_DEMAND + 'ab_market_outcomes']}) as {ab_io.OUTCOMES[1]}"


def on_demand_ab_test_results(cursor, analyses: dict[str, str]) -> list[tuple]:
    """analyses/ab_test_results.sql on demand: the asset's inputs computed from the staging
    views, then its statistics (precog/stats/ab_testing.py). Rows in RESULT_COLUMNS order."""
    experiments, outcomes = ab_io.read_inputs(cursor, outcomes_on_demand(analyses))
    results = ab_testing.analyze(outcomes, experiments, computed_at=dt.datetime.now(dt.UTC))
    return [tuple(row) for row in results[list(ab_testing.RESULT_COLUMNS)].itertuples(index=False)]


def _plain(value):
    """A value as psycopg2 would return it: None for a missing one, Python scalars."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


# The A/B answers compare as follows: the inputs exactly (ab_inputs_difference), the
# deterministic figures to a relative 1e-9 (the table stores what the asset computed; the
# bench recomputes in another process), and the resampled ones (bootstrap intervals and their
# MDE, permutation p-values) only as present or absent.
AB_RELATIVE_TOLERANCE = 1e-9
RESAMPLED = {
    "bootstrap_bca": {"ci_low", "ci_high", "mde", "p_value"},
    "permutation": {"p_value"},
}


def _same(x, y, tolerance: float = 0.0) -> bool:
    if x == y:
        return True
    if tolerance and isinstance(x, float) and isinstance(y, float):
        return math.isclose(x, y, rel_tol=tolerance)
    return False


def first_difference(name: str, mart: list, on_demand: list, columns: list[str]) -> str:
    """'' if the two answers are the same rows with equal values, else the first difference.
    Numbers compare by value (a numeric 0.50 equals 0.5); the A/B answers as said above."""
    tolerance = 0.0
    if name == "ab_test_results":
        key = [columns.index(c) for c in ("experiment_name", "metric", "test")]
        mart = sorted(mart, key=lambda row: [row[i] for i in key])
        on_demand = sorted(on_demand, key=lambda row: [row[i] for i in key])
        columns = [c for c in columns if c != "computed_at"]
        tolerance = AB_RELATIVE_TOLERANCE
    if len(mart) != len(on_demand):
        return f"{len(mart)} rows from the marts, {len(on_demand)} on demand"
    for number, (a, b) in enumerate(zip(mart, on_demand, strict=True)):
        resampled = RESAMPLED.get(a[columns.index("test")], set()) if tolerance else set()
        for column, x, y in zip(columns, a, map(_plain, b), strict=False):
            if _same(x, y, tolerance) or (column in resampled and (x is None) == (y is None)):
                continue
            return f"row {number}, {column}: {x!r} from the marts, {y!r} on demand"
    return ""


def ab_inputs_difference(cursor, analyses: dict[str, str]) -> str:
    """'' if the A/B inputs computed on demand are the rows of int_ab_market_outcomes that the
    asset read, else how they differ."""
    answers = []
    for relation in (".".join(ab_io.OUTCOMES), outcomes_on_demand(analyses)):
        cursor.execute(ab_io.outcomes_sql(relation))
        answers.append(sorted(cursor.fetchall(), key=lambda row: row[:2]))
    table, on_demand = answers
    if table == on_demand:
        return ""
    if len(table) != len(on_demand):
        return (
            f"A/B inputs: {len(table)} rows in int_ab_market_outcomes, {len(on_demand)} on demand"
        )
    first = next(i for i, (a, b) in enumerate(zip(table, on_demand, strict=True)) if a != b)
    return f"A/B inputs: {table[first]!r} in int_ab_market_outcomes, {on_demand[first]!r} on demand"


def measure_dashboard(
    target: database.Warehouse,
    analyses: dict[str, str],
    *,
    mart_runs: Policy = MART_RUNS,
    on_demand_runs: Policy = ON_DEMAND_RUNS,
) -> list[DashboardQuery]:
    """Each dashboard query against the marts as bi_reader, prepared (after one run to warm
    up), and its on-demand equivalent as the warehouse's owner (staging is not bi_reader's), in
    one run; the answers compared."""
    results = []
    reader, owner = bi_reader(target), database.connect(target)
    owner.autocommit = True
    with reader.cursor() as marts, owner.cursor() as raw:
        raw.execute("set jit = off")  # like bi_reader
        for name in DASHBOARD_QUERIES:
            raw.execute(f"set enable_nestloop = {'off' if name in PRICE_EVERY_TRADE else 'on'}")
            # Prepared once, as the server prepares each panel's query once per session
            # (precog/dashboard/reader.py): planned once, run many times.
            marts.execute(f"prepare panel_{name} as {analyses[name]}")
            query = _fetch(marts, f"execute panel_{name}")
            query()
            columns = [column.name for column in marts.description]
            mart_timing, mart_rows = timed(query, mart_runs)
            server = server_time(marts, analyses[name])
            if name == "ab_test_results":
                on_demand = lambda: on_demand_ab_test_results(raw, analyses)  # noqa: E731
            else:
                on_demand = _fetch(raw, analyses[ON_DEMAND + name])
            on_demand_timing, on_demand_rows = timed(on_demand, on_demand_runs)
            difference = first_difference(name, mart_rows, on_demand_rows, columns)
            if name == "ab_test_results":
                difference = ab_inputs_difference(raw, analyses) or difference
            results.append(
                DashboardQuery(
                    name,
                    len(mart_rows),
                    mart_timing,
                    on_demand_timing,
                    not difference,
                    difference,
                    server,
                )
            )
    reader.close()
    owner.close()
    return results


def land_exits_now(target: database.Warehouse, count: int, since: dt.datetime) -> int:
    """`count` exits of one contract, executed now, on positions held now and on which nothing
    landed since `since`: a desk closing positions while the dashboard watches. Held now is
    the live view's (with what landed since the last run): a position the last run showed
    held may have been closed since, and an exit on it would be quarantined, never shown.
    Returns how many landed."""
    with database.transaction(target) as cursor:
        cursor.execute(
            """
            insert into raw.trades
                (trade_id, position_id, action, quantity, price, fees, execution_timestamp)
            select
                (select max(trade_id) from raw.trades) + row_number() over (order by position_id),
                position_id, 'exit', 1, round(coalesce(current_price, average_entry_price), 2),
                0.01, now()
            from (
                select position_id, current_price, average_entry_price
                from marts.live_current_positions
                where open_quantity >= 1
                    and position_id not in (
                        select position_id from raw.trades where loaded_at >= %s
                    )
                order by position_id
                limit %s
            ) as held
            """,
            (since, count),
        )
        return cursor.rowcount


def measure_live_view(
    target: database.Warehouse,
    analyses: dict[str, str],
    *,
    runs: Policy = MART_RUNS,
    exits: int = LIVE_EXITS,
) -> LiveView:
    """After the marts are built: an hour of trades and `exits` exits executed now land, no run;
    then marts.live_pnl_today as bi_reader, timed, and its totals for today compared with the
    on-demand answer from the staging views."""
    owner = database.connect(target)
    owner.autocommit = True
    with owner.cursor() as cursor:
        # right after the marts were built, nothing is pending: the view shows what is built
        cursor.execute("select coalesce(sum(total_trades), 0) from marts.live_pnl_today")
        materialized = cursor.fetchone()[0]
        cursor.execute("select statement_timestamp()")
        since = cursor.fetchone()[0]
    hour = simulator.append_hours(1, target=target)
    landed_now = land_exits_now(target, exits, since)
    with owner.cursor() as cursor:
        pending_trades, pending_positions = bookkeeping.trades_since_last_capture(cursor)

    reader = bi_reader(target)
    with reader.cursor() as cursor:
        run = _fetch(cursor, "select * from marts.live_pnl_today")
        run()
        columns = [column.name for column in cursor.description]
        timing, rows = timed(run, runs)
        server = server_time(cursor, "select * from marts.live_pnl_today")
        cursor.execute("explain (analyze, buffers) select * from marts.live_pnl_today")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    reader.close()
    totals = ("total_trades", "closed_trades", "winning_trades", "net_pnl")
    live = [sum(row[columns.index(column)] for row in rows) for column in totals]
    with owner.cursor() as cursor:
        cursor.execute("set jit = off")
        cursor.execute(analyses[ON_DEMAND + "todays_totals"])
        expected = list(cursor.fetchone())
    owner.close()
    return LiveView(
        landed_hour_trades=hour.trades,
        landed_now=landed_now,
        pending_trades=pending_trades,
        pending_positions=pending_positions,
        materialized_today=materialized,
        live_today=int(live[0]),
        on_demand_today=expected[0],
        same_as_on_demand=live == expected,
        timing=timing,
        server=server,
        plan=plan,
    )


def dashboard(
    target: database.Warehouse, target_path: Path, *, quick: bool = False, build: bool = True
) -> Dashboard:
    """The dashboard section: marts built (unless `build` is False: a run built them), queries
    timed and checked, then the live view. `quick` (tests): a few runs of each query."""
    build_seconds = build_marts(target, target_path) if build else None
    with database.transaction(target) as cursor:
        mart_rows = []
        for relation in DASHBOARD_MARTS:
            cursor.execute(f"select count(*) from {relation}")
            mart_rows.append((relation, cursor.fetchone()[0]))
    analyses = compile_analyses(target, target_path)
    mart_runs = [(3, math.inf)] if quick else MART_RUNS
    on_demand_runs = [(1, math.inf)] if quick else ON_DEMAND_RUNS
    queries = measure_dashboard(
        target, analyses, mart_runs=mart_runs, on_demand_runs=on_demand_runs
    )
    live = measure_live_view(target, analyses, runs=mart_runs)
    served = None if quick else measure_served(target)
    return Dashboard(build_seconds, mart_rows, queries, live, served)


def measure_served(target: database.Warehouse) -> served_dashboard.Served:
    """`precog dashboard` on the desk, while exits executed now land one at a time."""
    with database.transaction(target) as cursor:
        cursor.execute("select statement_timestamp()")
        since = cursor.fetchone()[0]
    return served_dashboard.measure(target, lambda: land_exits_now(target, 1, since))


def measure(trades: int, base: database.Warehouse, seed: int = 1) -> SizeResult:
    target = _fresh_database(base)
    result = SizeResult(trades=trades)
    with tempfile.TemporaryDirectory(prefix="precog-bench-") as scratch:
        target_path = Path(scratch)
        report = simulator.simulate_history(trades, seed, history_end(target), target=target)
        result.trades, result.load_seconds = report.trades, report.seconds
        result.raw_rows = sum(report.rows.values())

        connection = database.connect(target)
        connection.autocommit = True
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(FLOOR_SQL)
            result.floor_seconds = time.perf_counter() - started
            cursor.execute("drop table floor_hourly")

            result.jobs = measure_jobs(target)

            for table in ["raw.trades", *LEVEL_TABLES]:
                cursor.execute(f"select count(*), pg_total_relation_size('{table}') from {table}")
                rows, size = cursor.fetchone()
                result.sizes.append((table, rows, size))
        connection.close()
        result.dashboard = dashboard(target, target_path, build=False)
    return result


def report(results: list[SizeResult]) -> str:
    lines = [
        "| history | load | floor | first full build: `precog run` | sum of floors | ratio "
        "| levels in it (dbt's seconds) | ratio to floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        first, rollups = r.jobs.first_build.seconds, r.jobs.rollup_models_seconds()
        lines.append(
            f"| {r.trades:,} trades, {r.raw_rows:,} raw rows "
            f"| {r.load_seconds:.1f} s ({r.trades / r.load_seconds:,.0f} trades/s) "
            f"| {r.floor_seconds:.1f} s | {first:.1f} s | {r.floors_seconds():.1f} s "
            f"| {first / r.floors_seconds():.2f}x | {rollups:.1f} s "
            f"| {rollups / r.floor_seconds:.2f}x |"
        )
    lines += [
        "",
        "`precog run` end to end (a process of its own, as a user runs it), and each job's"
        " Dagster run, start to end:",
        "",
        "| history | nothing new | one hour landed (trades, late) | hourly job | daily job "
        "| the first hour after the build: run (hourly, daily) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        j = r.jobs
        lines.append(
            f"| {r.trades:,} trades | {j.nothing_new.seconds:.2f} s"
            f"{'' if not j.nothing_new.ran else ' (it ran!)'} "
            f"| {j.hour.seconds:.1f} s ({j.hour_trades:,}, {j.hour_late_trades:,}) "
            f"| {j.hour.job('hourly').seconds:.1f} s | {j.hour.job('daily').seconds:.1f} s "
            f"| {j.after_build.seconds:.1f} s ({j.after_build.job('hourly').seconds:.1f} s, "
            f"{j.after_build.job('daily').seconds:.1f} s) |"
        )
    for r in results:
        lines += ["", f"Slowest steps at {r.trades:,} trades (seconds):", ""]
        for label, run in (("first build", r.jobs.first_build), ("one hour landed", r.jobs.hour)):
            for job in run.jobs:
                steps = ", ".join(f"`{key}` {seconds:.1f}" for key, seconds in job.steps)
                lines.append(f"- {label}, {job.name} job ({job.seconds:.1f} s): {steps}")
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
    for r in results:
        if r.dashboard is not None:
            lines += dashboard_report(r.trades, r.dashboard)
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def dashboard_report(trades: int, board: Dashboard) -> list[str]:
    rows = ", ".join(f"{relation.split('.')[1]} {count:,}" for relation, count in board.mart_rows)
    built = "" if board.build_seconds is None else f"marts built in {board.build_seconds:.1f} s; "
    lines = [
        "",
        f"Dashboard at {trades:,} trades ({built}rows: "
        f"{rows}). Marts as bi_reader, warm, each query prepared once as the server does (the"
        " server column: a plain run's planning and execution); on demand from the staging"
        " views:",
        "",
        "| query | rows | mart p50 | mart p95 | mart max (runs) | server: plan + execute "
        "| on demand p50 | on demand p95 (runs) | ratio p50 | ratio p95 | same answer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for q in board.queries:
        lines.append(
            f"| {q.name} | {q.rows:,} | {_duration(q.mart.p50)} | {_duration(q.mart.p95)} "
            f"| {_duration(q.mart.max)} ({len(q.mart.samples)}) "
            f"| {_duration(q.server[0])} + {_duration(q.server[1])} "
            f"| {_duration(q.on_demand.p50)} "
            f"| {_duration(q.on_demand.p95)} ({len(q.on_demand.samples)}) "
            f"| {q.on_demand.p50 / q.mart.p50:,.0f}x | {q.on_demand.p95 / q.mart.p95:,.0f}x "
            f"| {'yes' if q.same_answer else 'NO: ' + q.difference} |"
        )
    live = board.live
    if live is not None:
        lines += [
            "",
            f"Live view marts.live_pnl_today at {trades:,} trades, with {live.pending_trades:,} "
            f"trades pending on {live.pending_positions:,} positions (an appended hour of "
            f"{live.landed_hour_trades:,} trades and {live.landed_now} exits executed now, no run "
            f"since): p50 {_duration(live.timing.p50)}, p95 {_duration(live.timing.p95)}, max "
            f"{_duration(live.timing.max)} ({len(live.timing.samples)} runs, bi_reader; server: "
            f"{_duration(live.server[0])} planning + {_duration(live.server[1])} execution). "
            "Today's "
            f"trades: {live.materialized_today:,} materialized, {live.live_today:,} in the view, "
            f"{live.on_demand_today:,} on demand; the view shows the pending trades: "
            f"{'yes' if live.live_today > live.materialized_today else 'NO'}; its totals equal "
            f"the on-demand answer: {'yes' if live.same_as_on_demand else 'NO'}.",
        ]
    if board.served is not None:
        lines += served_dashboard.report(trades, board.served)
    return lines


def run(sizes: list[int], seed: int = 1) -> str:
    base = database.prepare()
    results = []
    plans = embedded.data_dir() / "bench"
    for trades in sizes:
        results.append(measure(trades, base, seed))
        live = results[-1].dashboard.live
        plans.mkdir(parents=True, exist_ok=True)
        plan = plans / f"live_pnl_today_{trades}.txt"
        plan.write_text(live.plan + "\n")
        print(report(results[-1:]), flush=True)
        print(f"\n(EXPLAIN ANALYZE of the live view: {plan})", flush=True)
    if len(results) > 1 and served_dashboard.CHROMIUM.exists():
        drawn = plot.write_png(plot.points_of(results), GROWTH_PLOT)
        print(f"\n(the growth plot: {drawn})", flush=True)
    return report(results)
