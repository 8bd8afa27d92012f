{#- Dashboard: versions of one strategy side by side (var strategy_name, default value_hunter),
    by league and market type; the per-version totals add the components and derive the rates
    from the sums. API endpoint: GET /strategies/comparison?strategy_name=... -#}
select
    strategy_name,
    strategy_version,
    league,
    market_type,
    total_trades,
    closed_trades,
    net_pnl,
    win_rate,
    average_edge,
    profit_factor,
    max_drawdown,
    sharpe_ratio
from {{ ref('mv_strategy_performance') }}
where strategy_name = '{{ var("strategy_name", "value_hunter") }}'
order by strategy_version, league, market_type
