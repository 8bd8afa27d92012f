{#- When each table of the warehouse was last built and how long it took: the rollup levels and
    the marts among them. The dashboard's monitoring reads it (aggregation freshness per level,
    the marts' rebuilds), and so can a BI tool. A view over the pipeline's bookkeeping. -#}
{{ config(materialized='view') }}

select
    model,
    case when model like 'int\_pnl\_%' then substr(model, 9) end as aggregation_level,
    built_at,
    build_seconds
from {{ source('precog_meta', 'built_from') }}
