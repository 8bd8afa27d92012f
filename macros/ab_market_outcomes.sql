{#- The input of the A/B analysis (DESIGN.md, "A/B testing"; precog/stats/ab_testing.py): one
    row per experiment and assigned market, with the closed trades (exits and settlements) of
    the strategy version of the market's variant executed inside the experiment's window
    [start_ts, end_ts), their wins and realized P&L. The market is the unit of analysis.

    Intention to treat: every assigned market is a row, with 0 trades, 0 wins and 0 P&L when
    its variant's strategy closed nothing in it. Assignments whose variant is neither control
    nor treatment are left out (the warning test on stg_ab_test_assignments.variant counts
    them). A full rebuild each run: its cost is the experiments' markets and trades. -#}
{% macro ab_market_outcomes(trades) -%}
    with

    experiments as (

        select * from {{ ref('stg_ab_experiments') }}

    ),

    assignments as (

        select * from {{ ref('stg_ab_test_assignments') }}
        where variant in ('control', 'treatment')

    ),

    markets as (

        select market_id, league, market_type from {{ ref('stg_markets') }}

    ),

    -- Not materialized: read twice, a CTE would be copied whole (10.5M rows, 3 s at 10M) where
    -- the horizon needs only the index's last entry.
    trades as not materialized (

        select * from {{ trades }}

    ),

    -- How far the valid trades reach: an experiment's results cover its window up to here.
    horizon as (

        select max(execution_timestamp) as last_trade_at from trades

    ),

    assigned as (

        select
            assignments.experiment_name,
            assignments.market_id,
            assignments.variant,
            case assignments.variant
                when 'control' then experiments.control_strategy_id
                when 'treatment' then experiments.treatment_strategy_id
            end as strategy_id,
            assignments.stratification_key,
            markets.league,
            markets.market_type,
            assignments.assigned_at,
            experiments.start_ts,
            experiments.end_ts
        from assignments
        inner join experiments on experiments.experiment_name = assignments.experiment_name
        left join markets on markets.market_id = assignments.market_id

    ),

    closed as (

        select
            assigned.experiment_name,
            assigned.market_id,
            count(*) as closed_trades,
            count(*) filter (where trades.realized_pnl > 0) as winning_trades,
            count(*) filter (where trades.realized_pnl < 0) as losing_trades,
            sum(trades.realized_pnl) as realized_pnl,
            max(trades.execution_timestamp) as last_closed_at
        from assigned
        inner join trades
            on trades.market_id = assigned.market_id
            and trades.strategy_id = assigned.strategy_id
            and trades.action <> 'entry'
            and trades.execution_timestamp >= assigned.start_ts
            and (assigned.end_ts is null or trades.execution_timestamp < assigned.end_ts)
        group by assigned.experiment_name, assigned.market_id

    )

    select
        assigned.experiment_name,
        assigned.market_id,
        assigned.variant,
        assigned.strategy_id,
        assigned.stratification_key,
        assigned.league,
        assigned.market_type,
        assigned.assigned_at,
        coalesce(closed.closed_trades, 0) as closed_trades,
        coalesce(closed.winning_trades, 0) as winning_trades,
        coalesce(closed.losing_trades, 0) as losing_trades,
        coalesce(closed.realized_pnl, 0) as realized_pnl,
        closed.last_closed_at,
        case
            when assigned.end_ts is null then horizon.last_trade_at
            else least(assigned.end_ts, horizon.last_trade_at)
        end as data_through
    from assigned
    cross join horizon
    left join closed
        on closed.experiment_name = assigned.experiment_name
        and closed.market_id = assigned.market_id
{%- endmacro %}
