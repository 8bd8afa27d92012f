{#- On demand (precog bench): analyses/daily_pnl.sql computed at query time, nothing
    materialized. The positions with a trade executed in the window (raw.trades serves as the
    index) are priced through the staging views by the one trade P&L definition, and all their
    trades with them, as a closing trade's P&L depends on entries of any age. -#}
{%- set today = "(" ~ desk_now() ~ " at time zone " ~ reporting_timezone() ~ ")::date" %}
{%- set window_start = "((" ~ today ~ " - " ~ panel_parameter('days', 30, 'integer')
    ~ ")::timestamp at time zone " ~ reporting_timezone() ~ ")" %}
{%- set window_end = "((" ~ today ~ " + 1)::timestamp at time zone " ~ reporting_timezone() ~ ")" %}
with

window_positions as materialized (

    select distinct position_id
    from {{ source('raw', 'trades') }}
    where execution_timestamp >= {{ window_start }} and execution_timestamp < {{ window_end }}

),

priced_trades as materialized (

    {{ trade_pnl('window_positions') }}

),

window_trades as (

    select * from priced_trades
    where execution_timestamp >= {{ window_start }} and execution_timestamp < {{ window_end }}
        and {{ daily_pnl_filters() }}

),

days as (

    select
        (period_start at time zone {{ reporting_timezone() }})::date as pnl_date,
        sum({{ published_value('mv_daily_pnl', 'net_pnl') }}) as net_pnl,
        sum(total_trades) as total_trades,
        sum(closed_trades) as closed_trades,
        sum(winning_trades) as winning_trades,
        (period_start at time zone {{ reporting_timezone() }})::date = {{ today }} as is_today
    from ({{ rollup_level(trade_segments('window_trades'), 'day', 'period_start, trade_id') }})
        as levels
    group by 1, 6

)

{{ daily_pnl_panel('days') }}
