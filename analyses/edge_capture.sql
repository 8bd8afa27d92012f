{#- Dashboard: how much of each model's predicted edge its strategies' closed trades captured.
    API endpoint: GET /api/models/edge-capture -#}
select *
from {{ ref('model_edge_capture') }}
order by model_id, strategy_id
