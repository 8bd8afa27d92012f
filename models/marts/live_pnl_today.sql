{#- Today's P&L, live (DESIGN.md, "Marts"), like a real-time aggregate: the hourly level the
    last run materialized, plus what landed since, so a dashboard sees a trade seconds after it
    lands instead of at the next hourly run. One row per (strategy_id, model_id, league,
    market_type) with a trade today, in the reporting time zone, with the daily level's columns.

    A trade that lands can change the P&L of its position's other trades (a late entry changes
    the average entry price), so the positions the hourly level has not processed (which:
    macros/live.sql) are repriced whole (macros/trade_pnl.sql, looked up by key), and the hours
    of today they touch are recomputed from trades; the other hours of today are the hourly
    level's rows. The levels' own macro composes the day from both, so the cost follows what
    is pending, not the day's volume, and after the next runs it equals the daily level. -#}
{{ config(materialized='view') }}

{%- set day_start = "date_trunc('day', " ~ desk_now() ~ ", " ~ reporting_timezone() ~ ")" %}
{%- set day_end = bucket_end('day', day_start) %}

with

-- Positions the hourly level has not processed (its watermark is never ahead of
-- int_trade_pnl's, which runs before it): their materialized trades may be stale.
pending_positions as (

    {{ pending_positions(ref('int_pnl_hourly')) }}

),

repriced as (

    {{ trade_pnl('pending_positions') }}

),

touched_hours as (

    {{ touched_buckets('pending_positions', 'hour', executed_from=day_start, executed_to=day_end,
        lookup=true) }}

),

-- The trades of today's touched hours: the materialized ones of the other positions, and the
-- pending positions' repriced.
touched_trades as (

    select trades.*
    from (
        select materialized.*
        from {{ ref('int_trade_pnl') }} as materialized
        where materialized.execution_timestamp >= {{ day_start }}
            and materialized.execution_timestamp < {{ day_end }}
            and not exists (
                select from pending_positions
                where pending_positions.position_id = materialized.position_id
            )

        union all

        select repriced.*
        from repriced
        where repriced.execution_timestamp >= {{ day_start }}
            and repriced.execution_timestamp < {{ day_end }}
    ) as trades
    where exists (
        select from touched_hours
        where touched_hours.bucket = {{ bucket_start('hour', 'trades.execution_timestamp') }}
            and {{ same_dimensions('touched_hours', 'trades') }}
    )

),

-- Today's segments, in time order within each dimensions: the untouched hours whole, the
-- touched ones trade by trade.
segments as (

    select
        null::bigint as trade_id,
        hourly.period_start,
        {{ rollup_dimensions('hourly.') }},
        {{ level_components('hourly.') }}
    from {{ ref('int_pnl_hourly') }} as hourly
    where hourly.period_start >= {{ day_start }}
        and hourly.period_start < {{ day_end }}
        and not exists (
            select from touched_hours
            where touched_hours.bucket = hourly.period_start
                and {{ same_dimensions('touched_hours', 'hourly') }}
        )

    union all

    select * from {{ trade_segments('touched_trades') }} as trade_segments

),

today as (

    {{ rollup_level('segments', 'day', 'period_start, trade_id') }}

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
