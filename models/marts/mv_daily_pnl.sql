{#- Dashboard mart of daily P&L (DESIGN.md, "Marts"): the daily level with the names of its
    strategy and model versions, and each dimension group's running P&L. One row per (pnl_date,
    strategy_id, model_id, league, market_type), days with at least one trade only.
    cumulative_pnl and drawdown run over the days of the row's own group: the desk's total for a
    day is sum(net_pnl) over its rows, and its running figures are taken over those sums
    (analyses/daily_pnl.sql), never by adding up groups' drawdowns. -#}
{{ config(
    indexes=[
        {'columns': ['pnl_date', 'strategy_id', 'model_id', 'league', 'market_type'], 'unique': True},
        {'columns': ['strategy_id', 'pnl_date']},
    ],
) }}

with

daily as (

    select * from {{ ref('int_pnl_daily') }}

),

strategies as (

    select strategy_id, strategy_name, strategy_version from {{ ref('stg_strategies') }}

),

models as (

    select model_id, model_name, model_version from {{ ref('stg_probability_models') }}

),

running as (

    select
        *,
        sum(net_pnl) over running_days as cumulative_pnl
    from daily
    window running_days as (
        partition by {{ rollup_dimensions() }}
        order by period_start
        rows between unbounded preceding and current row
    )

),

final as (

    select
        (running.period_start at time zone {{ reporting_timezone() }})::date as pnl_date,
        running.period_start,
        running.period_end,
        running.strategy_id,
        strategies.strategy_name,
        strategies.strategy_version,
        running.model_id,
        models.model_name,
        models.model_version,
        running.league,
        running.market_type,
        running.total_trades,
        running.closed_trades,
        running.winning_trades,
        running.losing_trades,
        running.contracts,
        running.notional,
        running.fees,
        running.gross_profit,
        running.gross_loss,
        running.net_pnl,
        running.edge_sum,
        running.edge_count,
        {{ derived_metrics() }},
        running.cumulative_pnl,
        {{ running_drawdown('running.cumulative_pnl', 'running_peak') }} as drawdown
    from running
    left join strategies on strategies.strategy_id = running.strategy_id
    left join models on models.model_id = running.model_id
    window running_peak as (
        partition by running.strategy_id, running.model_id, running.league, running.market_type
        order by running.period_start
        rows between unbounded preceding and current row
    )

)

select * from final
