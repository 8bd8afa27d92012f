{#- Dashboard: the choices of the P&L chart's filters (strategies, models, leagues, market
    types), from the daily mart. API endpoint: GET /api/filters -#}
select distinct
    strategy_id, strategy_name, strategy_version, model_id, model_name, model_version, league,
    market_type
from {{ ref('mv_daily_pnl') }}
order by strategy_name, strategy_version, model_name, model_version, league, market_type
