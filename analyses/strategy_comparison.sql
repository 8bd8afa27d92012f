{#- Dashboard: versions of one strategy side by side (parameter strategy_name, default
    value_hunter; versions, default all), by league and market type, and per version over all of
    them (league and market_type 'ALL'): the components summed, the rates derived from the sums,
    never averaged (macros/dashboard.sql). Drawdown and Sharpe ratio are not additive: they are
    shown per group only. API endpoint: GET /api/strategies/comparison?strategy_name=...&versions=... -#}
with

versions as (

    {{ chosen_strategy_versions(ref('mv_strategy_performance')) }}

)

{{ strategy_comparison_panel('versions') }}
