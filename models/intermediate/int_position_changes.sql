{#- The change log of the incremental models (macros/incremental.sql): each run appends the
    positions whose raw rows landed since the last run, stamped with the run's start. It reads
    from the time before which the previous capture had seen every row (complete_before), so a
    long load that commits late is not missed; landed_condition says which rows count. -#}
{{ config(
    materialized='incremental',
    meta={'partitioning': 'hourly'},
    indexes=[
        {'columns': ['captured_at']}, {'columns': ['complete_before']}, {'columns': ['loaded_at']},
    ],
) }}

with

landed as (

    select position_id, loaded_at
    from {{ source('raw', 'trades') }}
    where {{ landed_condition('loaded_at') }}

    union all

    select position_id, loaded_at
    from {{ source('raw', 'positions') }}
    where {{ landed_condition('loaded_at') }}

    union all

    -- A late edge version can change the edge at entry of the positions on its market and model.
    select positions.position_id, edges.loaded_at
    from {{ source('raw', 'edges') }} as edges
    inner join {{ source('raw', 'positions') }} as positions
        on positions.market_id = edges.market_id and positions.model_id = edges.model_id
    where {{ landed_condition('edges.loaded_at') }}

)

select
    position_id,
    max(loaded_at) as loaded_at,
    '{{ run_started_at.isoformat() }}'::timestamptz as captured_at,
    {{ complete_before() }} as complete_before
from landed
group by position_id
