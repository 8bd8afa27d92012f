{#- Dashboard: the desk's daily P&L for the last N days and today (parameter days, default 30),
    with its running total and drawdown from the day's sums (never by adding groups' drawdowns),
    today included live (is_today); optional filters strategy_id, model_id, league, market_type.
    API endpoint: GET /api/performance/daily?days=N. -#}
{%- set filters -%}
    {{ panel_filter('strategy_id', 'strategy_id', 'bigint') }}
    and {{ panel_filter('model_id', 'model_id', 'bigint') }}
    and {{ panel_filter('league', 'league', 'text') }}
    and {{ panel_filter('market_type', 'market_type', 'text') }}
{%- endset %}
{%- set today = "(" ~ desk_now() ~ " at time zone " ~ reporting_timezone() ~ ")::date" %}
with

days as (

    select pnl_date, sum(net_pnl) as net_pnl, sum(total_trades) as total_trades,
        sum(closed_trades) as closed_trades, sum(winning_trades) as winning_trades,
        false as is_today
    from {{ ref('mv_daily_pnl') }}
    where pnl_date >= {{ today }} - {{ panel_parameter('days', 30, 'integer') }}
        and pnl_date < {{ today }}
        and {{ filters }}
    group by pnl_date

    union all

    select pnl_date, sum(net_pnl), sum(total_trades), sum(closed_trades), sum(winning_trades),
        true
    from {{ ref('live_pnl_today') }}
    where {{ filters }}
    group by pnl_date

),

running as (

    select
        *,
        sum(net_pnl) over (order by pnl_date) as cumulative_pnl
    from days

)

select
    pnl_date as date,
    net_pnl,
    total_trades,
    closed_trades,
    {{ win_rate() }} as win_rate,
    cumulative_pnl,
    {{ running_drawdown('cumulative_pnl', '(order by pnl_date)') }} as drawdown,
    is_today
from running
order by pnl_date
