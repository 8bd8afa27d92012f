{#- Monitoring: each table's last build and its age on the desk's clock, for GET /metrics
    (aggregation freshness per level, the marts' rebuilds). -#}
select
    model,
    aggregation_level,
    built_at,
    build_seconds,
    extract(epoch from {{ desk_now() }} - built_at) as age_seconds
from {{ ref('model_builds') }}
order by model
