{#- Dashboard: the open markets with the largest current edges (var market_limit, default 50).
    API endpoint: GET /markets/overview. -#}
select *
from {{ ref('mv_market_edges') }}
where market_status = 'open'
order by abs(edge) desc, market_id, model_id
limit {{ var('market_limit', 50) }}
