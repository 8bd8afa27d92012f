{#- Dashboard: the desk's daily P&L for the last N days (var dashboard_days, default 30), with
    its running total and drawdown from the day's sums (never by adding groups' drawdowns), today
    included live. API endpoint: GET /performance/daily?days=N. -#}
with

days as (

    select pnl_date, sum(net_pnl) as net_pnl, sum(total_trades) as total_trades,
        sum(closed_trades) as closed_trades, sum(winning_trades) as winning_trades
    from {{ ref('mv_daily_pnl') }}
    where pnl_date >= ({{ desk_now() }} at time zone {{ reporting_timezone() }})::date - {{ var('dashboard_days', 30) }}
        and pnl_date < ({{ desk_now() }} at time zone {{ reporting_timezone() }})::date
    group by pnl_date

    union all

    select pnl_date, sum(net_pnl), sum(total_trades), sum(closed_trades), sum(winning_trades)
    from {{ ref('live_pnl_today') }}
    group by pnl_date

),

running as (

    select
        *,
        sum(net_pnl) over (order by pnl_date) as cumulative_pnl
    from days

)

select
    pnl_date,
    net_pnl,
    total_trades,
    closed_trades,
    {{ win_rate() }} as win_rate,
    cumulative_pnl,
    {{ running_drawdown('cumulative_pnl', '(order by pnl_date)') }} as drawdown
from running
order by pnl_date
