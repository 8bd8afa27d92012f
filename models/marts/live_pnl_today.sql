{#- Today's P&L, live (DESIGN.md, "Marts"), like a real-time aggregate: the trade-level P&L the
    last run materialized, plus what landed since, so a dashboard sees a trade seconds after it
    lands instead of at the next hourly run. One row per (strategy_id, model_id, league,
    market_type) with a trade today, in the reporting time zone, with the daily level's columns.

    A trade that lands can change the P&L of its position's other trades (a late entry changes
    the average entry price), so the positions with rows not yet processed are repriced whole
    (macros/trade_pnl.sql, looked up by key), and their materialized trades set aside (which
    positions: macros/live.sql). The day's bucket is then composed
    from the trades by the levels' own macro, so after the next runs it equals the daily level. -#}
{{ config(materialized='view') }}

{%- set day_start = "date_trunc('day', " ~ desk_now() ~ ", " ~ reporting_timezone() ~ ")" %}

with

pending_positions as (

    {{ pending_positions(ref('int_trade_pnl')) }}

),

repriced as (

    {{ trade_pnl('pending_positions') }}

),

todays_trades as (

    select materialized.*
    from {{ ref('int_trade_pnl') }} as materialized
    where materialized.execution_timestamp >= {{ day_start }}
        and materialized.execution_timestamp < {{ bucket_end('day', day_start) }}
        and not exists (
            select from pending_positions
            where pending_positions.position_id = materialized.position_id
        )

    union all

    select repriced.*
    from repriced
    where repriced.execution_timestamp >= {{ day_start }}
        and repriced.execution_timestamp < {{ bucket_end('day', day_start) }}

),

today as (

    {{ rollup_level(trade_segments('todays_trades'), 'day', 'period_start, trade_id') }}

),

final as (

    select
        (period_start at time zone {{ reporting_timezone() }})::date as pnl_date,
        period_start,
        period_end,
        {{ rollup_dimensions() }},
        total_trades,
        closed_trades,
        winning_trades,
        losing_trades,
        contracts,
        notional,
        fees,
        gross_profit,
        gross_loss,
        net_pnl,
        {{ derived_metrics() }},
        {{ desk_now() }} as as_of
    from today

)

select * from final
