{#- Dashboard: versions of one strategy side by side (parameter strategy_name, default
    value_hunter; versions, default all), by league and market type, and per version over all of
    them (league and market_type 'ALL'): the components summed, the rates derived from the sums,
    never averaged. Drawdown and Sharpe ratio are not additive: they are shown per group only.
    API endpoint: GET /api/strategies/comparison?strategy_name=...&versions=... -#}
with

versions as (

    select *
    from {{ ref('mv_strategy_performance') }}
    where strategy_name = {{ panel_parameter('strategy_name', 'value_hunter', 'text') }}
        and (
            {{ panel_parameter('versions', none, 'text[]') }} is null
            or strategy_version = any({{ panel_parameter('versions', none, 'text[]') }})
        )

),

totals as (

    select
        strategy_name,
        strategy_version,
        'ALL' as league,
        'ALL' as market_type,
        sum(total_trades) as total_trades,
        sum(closed_trades) as closed_trades,
        sum(winning_trades) as winning_trades,
        sum(net_pnl) as net_pnl,
        sum(gross_profit) as gross_profit,
        sum(gross_loss) as gross_loss,
        sum(edge_sum) as edge_sum,
        sum(edge_count) as edge_count,
        null::numeric as max_drawdown,
        null::numeric as sharpe_ratio
    from versions
    group by strategy_name, strategy_version

),

groups as (

    select
        strategy_name, strategy_version, league, market_type, total_trades, closed_trades,
        winning_trades, net_pnl, gross_profit, gross_loss, edge_sum, edge_count, max_drawdown,
        sharpe_ratio
    from versions

    union all

    select * from totals

)

select
    strategy_name,
    strategy_version,
    league,
    market_type,
    total_trades,
    closed_trades,
    net_pnl,
    {{ rate_metrics() }},
    max_drawdown,
    sharpe_ratio
from groups
order by strategy_version, league = 'ALL' desc, league, market_type
