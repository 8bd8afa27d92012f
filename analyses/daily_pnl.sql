{#- Dashboard: the desk's daily P&L for the last N days and today (parameter days, default 30),
    with its running total and drawdown from the day's sums (macros/dashboard.sql),
    today included live (is_today); optional filters strategy_id, model_id, league, market_type.
    API endpoint: GET /api/performance/daily?days=N. -#}
{%- set today = "(" ~ desk_now() ~ " at time zone " ~ reporting_timezone() ~ ")::date" %}
with

days as (

    select pnl_date, sum(net_pnl) as net_pnl, sum(total_trades) as total_trades,
        sum(closed_trades) as closed_trades, sum(winning_trades) as winning_trades,
        false as is_today
    from {{ ref('mv_daily_pnl') }}
    where pnl_date >= {{ today }} - {{ panel_parameter('days', 30, 'integer') }}
        and pnl_date < {{ today }}
        and {{ daily_pnl_filters() }}
    group by pnl_date

    union all

    select pnl_date, sum(net_pnl), sum(total_trades), sum(closed_trades), sum(winning_trades),
        true
    from {{ ref('live_pnl_today') }}
    where {{ daily_pnl_filters() }}
    group by pnl_date

)

{{ daily_pnl_panel('days') }}
