{#- Dashboard: the open markets with the largest current edges (parameter market_limit, default
    50), with their quotes, volume and the desk's win rate on their market type. API endpoint:
    GET /api/markets/overview?limit=N -#}
select *
from {{ ref('mv_market_edges') }}
where market_status = 'open'
order by abs(edge) desc, market_id, model_id
limit {{ panel_parameter('market_limit', 50, 'integer') }}
