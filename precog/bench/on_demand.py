"""The dashboard's answers computed on demand, without the marts: what `precog bench` times
beside the marts (and checks equal to them)."""

from __future__ import annotations

from precog import reporting_timezone

# The analyses' parameters are dbt vars; the bench compiles them with their defaults, and the
# on-demand queries take the same values.
DASHBOARD_DAYS, STRATEGY_NAME, MODEL_ID, MARKET_LIMIT = 30, "value_hunter", 1, 50
CALIBRATION_BINS = 10  # dbt var calibration_bins (dbt_project.yml)
WILSON_Z = "1.95996398454005423552"  # as models/marts/calibration/model_calibration_bins_v1.sql


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
        pnl_date as date,
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
    strategy by league and market type, and per version (summed, rates from the sums). Max
    drawdown from the running P&L over the trades in (execution time, trade_id) order, from 0;
    the Sharpe ratio from the P&L of each local day between the first and the last day with a
    closing trade. The strategy's positions come from raw (any version naming one of its
    versions) and are priced through the views."""
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
    ),

    per_group as (
        select
            strategies.strategy_name, strategies.strategy_version, totals.league,
            totals.market_type, totals.total_trades, totals.closed_trades,
            totals.winning_trades, totals.net_pnl, totals.gross_profit, totals.gross_loss,
            totals.edge_sum, totals.edge_count, totals.max_drawdown,
            case
                when {days} >= 2 and sum_squares * {days} - net_pnl * net_pnl > 0
                then (net_pnl / {days})
                    / sqrt((sum_squares - net_pnl * net_pnl / {days}) / ({days} - 1))
                    * sqrt(365::numeric)
            end as sharpe_ratio
        from totals
        inner join daily using (strategy_id, league, market_type)
        left join staging.stg_strategies as strategies
            on strategies.strategy_id = totals.strategy_id
    ),

    per_version as (
        select
            strategy_name, strategy_version, 'ALL', 'ALL', sum(total_trades),
            sum(closed_trades), sum(winning_trades), sum(net_pnl), sum(gross_profit),
            sum(gross_loss), sum(edge_sum), sum(edge_count), null::numeric, null::numeric
        from per_group
        group by strategy_name, strategy_version
    )

    select
        strategy_name,
        strategy_version,
        league,
        market_type,
        total_trades,
        closed_trades,
        net_pnl,
        case when closed_trades > 0 then winning_trades::numeric / closed_trades end as win_rate,
        case when edge_count > 0 then edge_sum / edge_count end as average_edge,
        case when gross_loss < 0 then gross_profit / -gross_loss end as profit_factor,
        max_drawdown,
        sharpe_ratio
    from (select * from per_group union all select * from per_version) as rows
    order by strategy_version, league = 'ALL' desc, league, market_type
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
        {model_id}::bigint as model_id,
        'ALL' as league,
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
