"""`precog bench`: figures measured side by side in one run, with their data volumes.

Runs in its own database (`<database>_bench`, dropped and recreated) on the warehouse in use,
so a benchmark never touches the data of the pipeline. For each history size it measures:

- load: generating and loading the simulated history (trades/s);
- floor: one SQL statement that computes trade P&L from raw and aggregates it by hour and
  dimensions, the least work any rollup must do;
- full build: the rollup models built from scratch (`dbt run --full-refresh`), as a ratio of
  the floor;
- hourly run: one more simulated hour (with its late rows) landed, then the incremental build;
- size: rows and bytes of each level against raw.trades;
- dashboard (issue 4): the marts built, then each dashboard query (analyses/*.sql, compiled by
  dbt) timed as role bi_reader, beside the same answer computed on demand from the staging views
  (and raw) in the same run, checked equal to the mart's;
- live view: trades landed after the marts were built, without a run, then
  marts.live_pnl_today timed as bi_reader and checked to show them.

The history ends two hours before the bench starts, so that "today" and the dashboard's last
30 days hold trades, and the hours appended later are still in the past.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from orchestration import ab_testing, database, simulator
from orchestration.dbt import dbt_project, prepare_manifest, run_dbt

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


def history_end() -> dt.datetime:
    """Two hours before the current hour: the hourly run's hour and the live view's hour are
    appended after it, and both must be in the past."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2)


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
# The analyses' parameters are dbt vars; the bench compiles them with their defaults, and the
# on-demand queries take the same values.
DASHBOARD_DAYS, STRATEGY_NAME, MODEL_ID, MARKET_LIMIT = 30, "value_hunter", 1, 50
CALIBRATION_BINS = 10  # dbt var calibration_bins (dbt_project.yml)
WILSON_Z = "1.95996398454005423552"  # as models/marts/calibration/model_calibration_bins_v1.sql
# Trades just landed for the live view: exits of one contract executed now.
LIVE_EXITS = 5


def reporting_timezone() -> str:
    """The reporting time zone the dbt project uses (var reporting_timezone's default)."""
    return os.environ.get("PRECOG_REPORTING_TIMEZONE", "UTC")


# On-demand queries: each dashboard answer computed at query time, without the marts, from the
# staging views (views over raw that apply the contract and leave the quarantine out; nothing
# materialized) and, where it gives the same answer, straight from raw. Raw serves only as an
# index, to find which keys to look up through the views (the views' windows are partitioned by
# their key, so a lookup by key reads that key's raw rows only); every figure comes from the
# views. Written independently of the dbt models, from the definitions in DESIGN.md; the bench
# checks that each gives exactly the mart's answer.


def on_demand_trade_pnl(positions: str | None = None) -> str:
    """Trade-level P&L from the staging views, as a query: every valid trade with its
    position's dimensions, average entry price, realized P&L and edge at entry (DESIGN.md, "P&L
    semantics"). `positions`, a query of position_ids, restricts it to theirs, each position
    looked up by key and priced on its own; without it the views are joined whole (run it with
    enable_nestloop off: the views' filters leave the planner guessing one row)."""
    columns = """
        trades.trade_id, trades.position_id, p.market_id, p.strategy_id, p.model_id,
        markets.league, markets.market_type, p.side, trades.action, trades.quantity,
        trades.price, trades.fees, trades.execution_timestamp,
        entries.entry_cost / entries.entered_quantity as average_entry_price,
        case when trades.action <> 'entry' then
            ((trades.price * entries.entered_quantity - entries.entry_cost) * trades.quantity
                - entries.entry_fees * trades.quantity) / entries.entered_quantity
            - trades.fees
        end as realized_pnl,
        case when trades.action <> 'entry' then
            case p.side
                when 'yes' then edge_version.predicted_prob
                when 'no' then 1 - edge_version.predicted_prob
            end - entries.entry_cost / entries.entered_quantity
        end as edge_at_entry"""
    edge_condition = """edge_version.market_id = p.market_id
        and edge_version.model_id = p.model_id
        and edge_version.valid_from <= entries.first_entry_at
        and entries.first_entry_at < edge_version.valid_to"""
    if positions is not None:
        # Per position: its first version, its market, its valid trades with the sums of its
        # entries beside each, the edge version in force at its first entry.
        return f"""
        select {columns}
        from (select distinct position_id from ({positions}) as keys) as keys
        cross join lateral (
            select * from staging.stg_position_versions as v
            where v.position_id = keys.position_id
            order by v.valid_from limit 1
        ) as p
        cross join lateral (
            select * from staging.stg_markets as m where m.market_id = p.market_id offset 0
        ) as markets
        cross join lateral (
            select
                t.*,
                sum(quantity) filter (where action = 'entry') over () as entered_quantity,
                sum(price * quantity) filter (where action = 'entry') over () as entry_cost,
                sum(fees) filter (where action = 'entry') over () as entry_fees,
                min(execution_timestamp) filter (where action = 'entry') over ()
                    as first_entry_at
            from staging.stg_trades as t
            where t.position_id = keys.position_id
        ) as trades
        cross join lateral (
            select entered_quantity, entry_cost, entry_fees, first_entry_at
        ) as entries
        left join lateral (
            select * from staging.stg_edge_versions as edge_version
            where {edge_condition}
            offset 0
        ) as edge_version on true
        where entries.entered_quantity is not null
        """
    return f"""
    with
    trades as (select * from staging.stg_trades),
    -- a position's market, strategy, model and side are those of its first version
    positions as (
        select distinct on (position_id) position_id, market_id, strategy_id, model_id, side
        from staging.stg_position_versions
        order by position_id, valid_from
    ),
    entries as (
        select position_id, sum(quantity) as entered_quantity,
            sum(price * quantity) as entry_cost, sum(fees) as entry_fees,
            min(execution_timestamp) as first_entry_at
        from trades
        where action = 'entry'
        group by position_id
    )
    select {columns}
    from trades
    inner join positions as p on p.position_id = trades.position_id
    inner join entries on entries.position_id = trades.position_id
    inner join staging.stg_markets as markets on markets.market_id = p.market_id
    left join staging.stg_edge_versions as edge_version on {edge_condition}
    """


def _local_days(days: int) -> tuple[str, str]:
    """Start and end (SQL) of the local days from `days` days ago to today, in the reporting
    time zone."""
    tz = reporting_timezone()
    today = f"(now() at time zone '{tz}')::date"
    return (
        f"(({today} - {days})::timestamp at time zone '{tz}')",
        f"(({today} + 1)::timestamp at time zone '{tz}')",
    )


def on_demand_daily_pnl(days: int = DASHBOARD_DAYS) -> str:
    """analyses/daily_pnl.sql on demand: the desk's P&L per local day over the last `days` days
    and today. The positions with a raw trade executed in the window, and all their trades (a
    closing trade's P&L depends on entries of any age), are priced through the views."""
    tz = reporting_timezone()
    window_start, window_end = _local_days(days)
    positions = f"""select position_id from raw.trades
        where execution_timestamp >= {window_start} and execution_timestamp < {window_end}"""
    return f"""
    with

    trades as materialized ({on_demand_trade_pnl(positions)}),

    days as (
        select
            (execution_timestamp at time zone '{tz}')::date as pnl_date,
            sum(coalesce(realized_pnl, 0)) as net_pnl,
            count(*)::numeric as total_trades,
            count(realized_pnl)::numeric as closed_trades,
            count(*) filter (where realized_pnl > 0)::numeric as winning_trades
        from trades
        where execution_timestamp >= {window_start} and execution_timestamp < {window_end}
        group by 1
    ),

    running as (
        select *, sum(net_pnl) over (order by pnl_date) as cumulative_pnl from days
    )

    select
        pnl_date,
        net_pnl,
        total_trades,
        closed_trades,
        case when closed_trades > 0 then winning_trades / closed_trades end as win_rate,
        cumulative_pnl,
        greatest(max(cumulative_pnl) over (order by pnl_date), 0) - cumulative_pnl as drawdown
    from running
    order by pnl_date
    """


def on_demand_today() -> str:
    """Today's totals (trades, closing trades, winning trades, net P&L) on demand, as the live
    view should show them: the positions with a raw trade executed today, priced through the
    views."""
    start, end = _local_days(0)
    positions = f"""select position_id from raw.trades
        where execution_timestamp >= {start} and execution_timestamp < {end}"""
    return f"""
    select
        count(*) as total_trades,
        count(realized_pnl) as closed_trades,
        count(*) filter (where realized_pnl > 0) as winning_trades,
        coalesce(sum(coalesce(realized_pnl, 0)), 0) as net_pnl
    from ({on_demand_trade_pnl(positions)}) as trades
    where execution_timestamp >= {start} and execution_timestamp < {end}
    """


def on_demand_current_positions() -> str:
    """analyses/current_positions.sql on demand: positions whose current version is open or
    monitoring and which hold contracts by their valid trades, priced at the mid of their side's
    current quotes. Candidates come from raw (a current row with such a status); their current
    version, trades and market are looked up through the views."""
    held = """select current.position_id, current.status
        from (select distinct position_id from raw.positions
            where row_current_ind and status in ('open', 'monitoring')) as keys
        cross join lateral (
            select * from staging.stg_positions as s where s.position_id = keys.position_id
            offset 0
        ) as current
        where current.status in ('open', 'monitoring')"""
    return f"""
    with

    held as materialized ({held}),

    trades as materialized ({on_demand_trade_pnl("select position_id from held")}),

    positions as (
        select
            position_id, market_id, strategy_id, model_id, league, market_type, side,
            sum(quantity) filter (where action = 'entry')
                - coalesce(sum(quantity) filter (where action <> 'entry'), 0) as open_quantity,
            max(average_entry_price) as average_entry_price,
            coalesce(sum(realized_pnl), 0) as realized_pnl,
            min(execution_timestamp) as opened_at,
            max(execution_timestamp) as last_trade_at
        from trades
        group by position_id, market_id, strategy_id, model_id, league, market_type, side
    ),

    priced as (
        select
            positions.*,
            held.status as position_status,
            markets.ticker, markets.close_ts, markets.status as market_status,
            case positions.side
                when 'yes' then (markets.yes_bid + markets.yes_ask) / 2
                when 'no' then (markets.no_bid + markets.no_ask) / 2
            end as current_price
        from positions
        inner join held on held.position_id = positions.position_id
        cross join lateral (
            select * from staging.stg_markets as m where m.market_id = positions.market_id
            offset 0
        ) as markets
        where positions.open_quantity > 0
    )

    select
        priced.position_id, priced.position_status, priced.market_id, priced.ticker,
        priced.league, priced.market_type, priced.market_status, priced.close_ts,
        priced.strategy_id, strategies.strategy_name, strategies.strategy_version,
        priced.model_id, models.model_name, models.model_version, priced.side,
        priced.open_quantity, priced.average_entry_price, priced.current_price,
        (priced.current_price - priced.average_entry_price) * priced.open_quantity
            as unrealized_pnl,
        priced.realized_pnl, priced.opened_at, priced.last_trade_at
    from priced
    left join staging.stg_strategies as strategies on strategies.strategy_id = priced.strategy_id
    left join staging.stg_probability_models as models on models.model_id = priced.model_id
    order by priced.opened_at desc, priced.position_id
    """


def on_demand_strategy_comparison(strategy_name: str = STRATEGY_NAME) -> str:
    """analyses/strategy_comparison.sql on demand: all-time figures of each version of one
    strategy by league and market type. Max drawdown from the running P&L over the trades in
    (execution time, trade_id) order, from 0; the Sharpe ratio from the P&L of each local day
    between the first and the last day with a closing trade. The strategy's positions come from
    raw (any version naming one of its versions) and are priced through the views."""
    tz = reporting_timezone()
    versions = (
        f"select strategy_id from staging.stg_strategies where strategy_name = '{strategy_name}'"
    )
    positions = f"select distinct position_id from raw.positions where strategy_id in ({versions})"
    days = "(last_day - first_day + 1)::numeric"
    return f"""
    with

    trades as materialized (
        select * from ({on_demand_trade_pnl(positions)}) as trades
        where strategy_id in ({versions})
    ),

    running as (
        select
            *,
            sum(coalesce(realized_pnl, 0)) over (
                partition by strategy_id, league, market_type
                order by execution_timestamp, trade_id
                rows between unbounded preceding and current row
            ) as cumulative_pnl
        from trades
    ),

    drawdowns as (
        select
            *,
            greatest(max(cumulative_pnl) over (
                partition by strategy_id, league, market_type
                order by execution_timestamp, trade_id
                rows between unbounded preceding and current row
            ), 0) - cumulative_pnl as drawdown
        from running
    ),

    days as (
        select
            strategy_id, league, market_type,
            (execution_timestamp at time zone '{tz}')::date as pnl_day,
            sum(coalesce(realized_pnl, 0)) as day_pnl,
            count(realized_pnl) as day_closed_trades
        from trades
        group by 1, 2, 3, 4
    ),

    daily as (
        select
            strategy_id, league, market_type,
            sum(day_pnl * day_pnl) as sum_squares,
            min(pnl_day) filter (where day_closed_trades > 0) as first_day,
            max(pnl_day) filter (where day_closed_trades > 0) as last_day
        from days
        group by 1, 2, 3
    ),

    totals as (
        select
            strategy_id, league, market_type,
            count(*) as total_trades,
            count(realized_pnl) as closed_trades,
            count(*) filter (where realized_pnl > 0) as winning_trades,
            sum(coalesce(realized_pnl, 0)) as net_pnl,
            sum(greatest(coalesce(realized_pnl, 0), 0)) as gross_profit,
            sum(least(coalesce(realized_pnl, 0), 0)) as gross_loss,
            sum(coalesce(edge_at_entry, 0)) as edge_sum,
            count(edge_at_entry) as edge_count,
            max(drawdown) as max_drawdown
        from drawdowns
        group by 1, 2, 3
    )

    select
        strategies.strategy_name,
        strategies.strategy_version,
        totals.league,
        totals.market_type,
        totals.total_trades,
        totals.closed_trades,
        totals.net_pnl,
        case when closed_trades > 0 then winning_trades::numeric / closed_trades end as win_rate,
        case when edge_count > 0 then edge_sum / edge_count end as average_edge,
        case when gross_loss < 0 then gross_profit / -gross_loss end as profit_factor,
        totals.max_drawdown,
        case
            when {days} >= 2 and sum_squares * {days} - net_pnl * net_pnl > 0
            then (net_pnl / {days})
                / sqrt((sum_squares - net_pnl * net_pnl / {days}) / ({days} - 1))
                * sqrt(365::numeric)
        end as sharpe_ratio
    from totals
    inner join daily using (strategy_id, league, market_type)
    left join staging.stg_strategies as strategies on strategies.strategy_id = totals.strategy_id
    order by strategies.strategy_version, totals.league, totals.market_type
    """


def _ratio(numerator: str, denominator: str) -> str:
    """As macros/calibration.sql's exact_ratio: the quotient carried to 40 decimal places."""
    return f"(round(({numerator})::numeric, 40) / nullif(({denominator})::numeric, 0))"


def on_demand_calibration_curve(model_id: int = MODEL_ID) -> str:
    """analyses/calibration_curve.sql on demand: a model's reliability bins over all leagues and
    all time, with its Brier score and ECE. A forecast is the model's last valid prediction
    before a settled market's close; bins right-closed as scikit-learn's calibration_curve."""
    z, k = WILSON_Z, CALIBRATION_BINS
    return f"""
    with

    settled as (
        select market_id, close_ts, settlement_value::integer as outcome
        from staging.stg_markets
        where status = 'settled' and settlement_value in (0, 1)
    ),

    forecasts as (
        select distinct on (predictions.market_id)
            predictions.predicted_prob as p, settled.outcome::numeric as y
        from staging.stg_model_predictions as predictions
        inner join settled
            on settled.market_id = predictions.market_id
            and predictions.prediction_timestamp < settled.close_ts
        where predictions.model_id = {model_id} and predictions.predicted_prob between 0 and 1
        order by predictions.market_id, predictions.prediction_timestamp desc,
            predictions.prediction_id desc
    ),

    bins as (
        select
            greatest(ceil(p * {k}) - 1, 0)::integer as bin,
            count(*) as n, sum(p) as sum_p, sum(y) as sum_y,
            sum(p * p) as sum_pp, sum(p * y) as sum_py
        from forecasts
        group by 1
    ),

    totals as (
        select
            sum(n)::bigint as n,
            sum(sum_pp) - 2 * sum(sum_py) + sum(sum_y) as squared_error_sum,
            sum(abs(sum_p - sum_y)) as gap_sum
        from bins
    ),

    wilson as (
        select
            *,
            ({z} * {z} / 2 + sum_y) / (n + {z} * {z}) as center,
            {z} * sqrt({_ratio("sum_y * (n - sum_y)", "n")} + {z} * {z} / 4)
                / (n + {z} * {z}) as half_width
        from bins
    )

    select
        wilson.bin,
        round({_ratio("wilson.bin", k)}, 20) as bin_lower,
        round({_ratio("wilson.bin + 1", k)}, 20) as bin_upper,
        wilson.n as n_forecasts,
        round({_ratio("wilson.sum_p", "wilson.n")}, 20) as mean_predicted,
        round({_ratio("wilson.sum_y", "wilson.n")}, 20) as observed_frequency,
        case when sum_y = 0 then 0 else center - half_width end::double precision
            as wilson_lower,
        case when sum_y = wilson.n then 1 else center + half_width end::double precision
            as wilson_upper,
        round({_ratio("totals.squared_error_sum", "totals.n")}, 20) as brier_score,
        round({_ratio("totals.gap_sum", "totals.n")}, 20) as ece
    from wilson
    cross join totals
    order by wilson.bin
    """


def on_demand_market_overview(limit: int = MARKET_LIMIT) -> str:
    """analyses/market_overview.sql on demand: the open markets' current edges, largest first,
    with the market's quotes and the desk's win rate on its type. The open markets come from raw
    (a current row with status open), their current version and edges through the views; the
    win rate needs every closing trade's P&L, so the trades are priced whole."""
    open_markets = """select current.*
        from (select distinct market_id from raw.markets
            where row_current_ind and status = 'open') as keys
        cross join lateral (
            select * from staging.stg_markets as s where s.market_id = keys.market_id offset 0
        ) as current
        where current.status = 'open'"""
    return f"""
    with

    markets as materialized ({open_markets}),

    edges as materialized (
        select edges.*
        from markets
        cross join lateral (
            select * from staging.stg_edges as e where e.market_id = markets.market_id offset 0
        ) as edges
    ),

    market_type_results as materialized (
        select
            market_type,
            count(realized_pnl) as closed_trades,
            count(*) filter (where realized_pnl > 0) as winning_trades
        from ({on_demand_trade_pnl()}) as trades
        group by market_type
    )

    select
        edges.market_id, edges.model_id, markets.ticker, markets.league, markets.market_type,
        markets.event_start_ts, markets.close_ts, markets.status as market_status,
        markets.yes_bid, markets.yes_ask, markets.no_bid, markets.no_ask,
        (markets.yes_bid + markets.yes_ask) / 2 as yes_mid, markets.volume,
        models.model_name, models.model_version, edges.predicted_prob, edges.market_price,
        edges.edge, edges.confidence, edges.valid_from as edge_updated_at,
        coalesce(results.closed_trades, 0) as market_type_closed_trades,
        coalesce(results.winning_trades, 0) as market_type_winning_trades,
        case when results.closed_trades > 0 then
            results.winning_trades::numeric / results.closed_trades
        end as market_type_win_rate
    from edges
    inner join markets on markets.market_id = edges.market_id
    left join staging.stg_probability_models as models on models.model_id = edges.model_id
    left join market_type_results as results on results.market_type = markets.market_type
    order by abs(edges.edge) desc, edges.market_id, edges.model_id
    limit {limit}
    """


def on_demand_ab_outcomes() -> str:
    """The A/B analysis' input (intermediate.int_ab_market_outcomes) on demand: per experiment and
    assigned market, the closed trades of its variant's strategy in the experiment's window, and
    how far the valid trades reach. Every trade is priced (the experiments' strategies hold a
    third of the positions: looking them up one by one costs more than pricing all)."""
    return f"""
    with

    assigned as materialized (
        select
            a.experiment_name, a.market_id, a.variant,
            case a.variant
                when 'control' then e.control_strategy_id
                when 'treatment' then e.treatment_strategy_id
            end as strategy_id,
            a.stratification_key, markets.league, markets.market_type, e.start_ts, e.end_ts
        from staging.stg_ab_test_assignments as a
        inner join staging.stg_ab_experiments as e on e.experiment_name = a.experiment_name
        left join staging.stg_markets as markets on markets.market_id = a.market_id
        where a.variant in ('control', 'treatment')
    ),

    trades as materialized ({on_demand_trade_pnl()}),

    horizon as (select max(execution_timestamp) as last_trade_at from trades),

    closed as (
        select
            assigned.experiment_name, assigned.market_id,
            count(*) as closed_trades,
            count(*) filter (where trades.realized_pnl > 0) as winning_trades,
            sum(trades.realized_pnl) as realized_pnl
        from assigned
        inner join trades
            on trades.market_id = assigned.market_id
            and trades.strategy_id = assigned.strategy_id
            and trades.action <> 'entry'
            and trades.execution_timestamp >= assigned.start_ts
            and (assigned.end_ts is null or trades.execution_timestamp < assigned.end_ts)
        group by 1, 2
    )

    select
        assigned.experiment_name, assigned.market_id, assigned.variant,
        assigned.stratification_key, assigned.league, assigned.market_type,
        coalesce(closed.closed_trades, 0) as closed_trades,
        coalesce(closed.winning_trades, 0) as winning_trades,
        coalesce(closed.realized_pnl, 0) as realized_pnl,
        case
            when assigned.end_ts is null then horizon.last_trade_at
            else least(assigned.end_ts, horizon.last_trade_at)
        end as data_through
    from assigned
    cross join horizon
    left join closed
        on closed.experiment_name = assigned.experiment_name
        and closed.market_id = assigned.market_id
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
    dashboard: Dashboard | None = None


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
    materialized_today: int  # today's trades in intermediate.int_trade_pnl
    live_today: int  # today's trades in marts.live_pnl_today
    on_demand_today: int  # today's valid trades computed from the staging views
    same_as_on_demand: bool  # the view's totals for today equal the on-demand answer's
    timing: Timing
    server: tuple[float, float]  # planning and execution seconds, server side
    plan: str  # EXPLAIN ANALYZE of the view, as bi_reader


@dataclass
class Dashboard:
    build_seconds: float
    mart_rows: list[tuple[str, int]]
    queries: list[DashboardQuery]
    live: LiveView | None = None


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
    _timed_dbt(
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
    _timed_dbt(["run", "--select", "mv_ab_test_results"], target, target_path)
    return time.perf_counter() - started


def _ab_asset():
    """orchestration.assets.ab_testing, which loads the dbt manifest when imported."""
    if not dbt_project.manifest_path.exists():
        prepare_manifest()
    from orchestration.assets import ab_testing as asset

    return asset


def fill_ab_test_results(target: database.Warehouse) -> None:
    """What the Dagster asset marts/ab_test_results does, with its functions."""
    asset = _ab_asset()
    with database.transaction(target) as cursor:
        experiments, outcomes = asset.read_inputs(cursor)
    results = ab_testing.analyze(outcomes, experiments, computed_at=dt.datetime.now(dt.UTC))
    asset.write_results(target, results, experiments)


def compile_analyses(target: database.Warehouse, target_path: Path) -> dict[str, str]:
    """The dashboard's queries as dbt compiles them (analyses/*.sql, vars at their defaults)."""
    _timed_dbt(["compile", "--select", "path:analyses"], target, target_path)
    folder = target_path / "compiled" / "precog" / "analyses"
    return {name: (folder / f"{name}.sql").read_text() for name in DASHBOARD_QUERIES}


class _OutcomesOnDemand:
    """A cursor that answers the asset's query of intermediate.int_ab_market_outcomes with
    on_demand_ab_outcomes() instead, so that the asset's read_inputs builds the experiments."""

    def __init__(self, cursor, outcomes_sql: str):
        self._cursor, self._outcomes_sql = cursor, outcomes_sql

    def execute(self, sql, params=None):
        if sql == self._outcomes_sql:
            sql = on_demand_ab_outcomes()
        return self._cursor.execute(sql, params)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def on_demand_ab_test_results(cursor) -> list[tuple]:
    """analyses/ab_test_results.sql on demand: the asset's inputs computed from the staging
    views, then its statistics (orchestration/ab_testing.py). Rows in RESULT_COLUMNS order."""
    asset = _ab_asset()
    experiments, outcomes = asset.read_inputs(_OutcomesOnDemand(cursor, asset.OUTCOMES_SQL))
    results = ab_testing.analyze(outcomes, experiments, computed_at=dt.datetime.now(dt.UTC))
    return [tuple(row) for row in results[list(ab_testing.RESULT_COLUMNS)].itertuples(index=False)]


def _plain(value):
    """A value as psycopg2 would return it: None for a missing one, Python scalars."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


# The A/B statistics depend on the order of their input rows, which the asset's query of
# int_ab_market_outcomes does not fix (no ORDER BY): float sums differ in the last digits, and
# the seeded resampling draws other rows. So the A/B answers compare as follows: the inputs
# exactly (as sets of rows: ab_inputs_difference), the deterministic figures to a relative
# 1e-9, and the resampled ones (bootstrap intervals and their MDE, permutation p-values) only
# as present or absent.
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


def ab_inputs_difference(cursor) -> str:
    """'' if the A/B inputs computed on demand are the rows of int_ab_market_outcomes that the
    asset read (in any order), else how they differ."""
    asset = _ab_asset()
    answers = []
    for sql in (asset.OUTCOMES_SQL, on_demand_ab_outcomes()):
        cursor.execute(sql)
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


ON_DEMAND_SQL: dict[str, Callable[[], str]] = {
    "daily_pnl": on_demand_daily_pnl,
    "current_positions": on_demand_current_positions,
    "strategy_comparison": on_demand_strategy_comparison,
    "calibration_curve": on_demand_calibration_curve,
    "market_overview": on_demand_market_overview,
}


def measure_dashboard(
    target: database.Warehouse,
    analyses: dict[str, str],
    *,
    mart_runs: Policy = MART_RUNS,
    on_demand_runs: Policy = ON_DEMAND_RUNS,
) -> list[DashboardQuery]:
    """Each dashboard query against the marts as bi_reader (after one run to warm up), and its
    on-demand equivalent as the warehouse's owner (staging is not bi_reader's), in one run;
    the answers compared."""
    results = []
    reader, owner = bi_reader(target), database.connect(target)
    owner.autocommit = True
    with reader.cursor() as marts, owner.cursor() as raw:
        # as the full build of int_trade_pnl: the views' filters leave the planner guessing one
        # row, and it would nest loops over whole views; and no JIT, like bi_reader
        raw.execute("set enable_nestloop = off")
        raw.execute("set jit = off")
        for name in DASHBOARD_QUERIES:
            _fetch(marts, analyses[name])()
            columns = [column.name for column in marts.description]
            mart_timing, mart_rows = timed(_fetch(marts, analyses[name]), mart_runs)
            server = server_time(marts, analyses[name])
            if name == "ab_test_results":
                on_demand = lambda: on_demand_ab_test_results(raw)  # noqa: E731
            else:
                on_demand = _fetch(raw, ON_DEMAND_SQL[name]())
            on_demand_timing, on_demand_rows = timed(on_demand, on_demand_runs)
            difference = first_difference(name, mart_rows, on_demand_rows, columns)
            if name == "ab_test_results":
                difference = ab_inputs_difference(raw) or difference
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
    """`count` exits of one contract, executed now, on positions the dashboard shows as held
    and on which nothing landed since `since` (so each exit is valid): a desk closing
    positions while the dashboard watches. Returns how many landed."""
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
                from marts.mv_current_positions
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


def _today() -> str:
    """Condition on execution_timestamp: today in the reporting time zone."""
    start, end = _local_days(0)
    return f"execution_timestamp >= {start} and execution_timestamp < {end}"


def measure_live_view(
    target: database.Warehouse,
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
        cursor.execute(f"select count(*) from intermediate.int_trade_pnl where {_today()}")
        materialized = cursor.fetchone()[0]
        cursor.execute("select statement_timestamp()")
        since = cursor.fetchone()[0]
    hour = simulator.append_hours(1, target=target)
    landed_now = land_exits_now(target, exits, since)
    with owner.cursor() as cursor:
        # what the view reprices: trades landed since the last capture had seen everything
        cursor.execute(
            "select count(*), count(distinct position_id) from raw.trades where loaded_at >="
            " (select max(complete_before) from intermediate.int_position_changes)"
        )
        pending_trades, pending_positions = cursor.fetchone()

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
        cursor.execute("set enable_nestloop = off")
        cursor.execute("set jit = off")
        cursor.execute(on_demand_today())
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


def dashboard(target: database.Warehouse, target_path: Path, *, quick: bool = False) -> Dashboard:
    """The dashboard section: marts built, queries timed and checked, then the live view.
    `quick` (tests): a few runs of each query."""
    build_seconds = build_marts(target, target_path)
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
    live = measure_live_view(target, runs=mart_runs)
    return Dashboard(build_seconds, mart_rows, queries, live)


def measure(trades: int, base: database.Warehouse, seed: int = 1) -> SizeResult:
    target = _fresh_database(base)
    result = SizeResult(trades=trades)
    with tempfile.TemporaryDirectory(prefix="precog-bench-") as scratch:
        target_path = Path(scratch)
        report = simulator.simulate_history(trades, seed, history_end(), target=target)
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
        result.dashboard = dashboard(target, target_path)
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
    for r in results:
        if r.dashboard is not None:
            lines += dashboard_report(r.trades, r.dashboard)
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def dashboard_report(trades: int, board: Dashboard) -> list[str]:
    rows = ", ".join(f"{relation.split('.')[1]} {count:,}" for relation, count in board.mart_rows)
    lines = [
        "",
        f"Dashboard at {trades:,} trades (marts built in {board.build_seconds:.1f} s; rows: "
        f"{rows}). Marts as bi_reader, warm; on demand from the staging views:",
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
    return lines


def run(sizes: list[int], seed: int = 1) -> str:
    base = database.prepare()
    results = []
    plans = database.data_dir() / "bench"
    for trades in sizes:
        results.append(measure(trades, base, seed))
        live = results[-1].dashboard.live
        plans.mkdir(parents=True, exist_ok=True)
        plan = plans / f"live_pnl_today_{trades}.txt"
        plan.write_text(live.plan + "\n")
        print(report(results[-1:]), flush=True)
        print(f"\n(EXPLAIN ANALYZE of the live view: {plan})", flush=True)
    return report(results)
