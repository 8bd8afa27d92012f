{#- On demand (precog bench): today's totals as the live view marts.live_pnl_today must show
    them, computed at query time: the positions with a trade executed today (raw.trades serves
    as the index) priced through the staging views by the one trade P&L definition. -#}
{%- set day_start = "date_trunc('day', " ~ desk_now() ~ ", " ~ reporting_timezone() ~ ")" %}
with

todays_positions as materialized (

    select distinct position_id
    from {{ source('raw', 'trades') }}
    where execution_timestamp >= {{ day_start }}
        and execution_timestamp < {{ bucket_end('day', day_start) }}

),

priced_trades as materialized (

    {{ trade_pnl('todays_positions') }}

),

todays_trades as (

    select * from priced_trades
    where execution_timestamp >= {{ day_start }}
        and execution_timestamp < {{ bucket_end('day', day_start) }}

),

today as (

    {{ rollup_level(trade_segments('todays_trades'), 'day', 'period_start, trade_id') }}

)

select
    coalesce(sum(total_trades), 0) as total_trades,
    coalesce(sum(closed_trades), 0) as closed_trades,
    coalesce(sum(winning_trades), 0) as winning_trades,
    coalesce(sum({{ published_value('live_pnl_today', 'net_pnl') }}), 0) as net_pnl
from today
