{#- The positions held now, live: mv_current_positions as the last run built it, with the
    positions that have trades not yet processed (macros/live.sql) repriced whole from their
    trades, so the position table shows a trade seconds after it lands. After the next hourly run
    it equals mv_current_positions. A view, computed when queried. -#}
{{ config(materialized='view') }}

with

pending_positions as (

    {{ pending_positions(ref('mv_current_positions')) }}

),

repriced_table as (

    {{ repriced_position_table('pending_positions') }}

)

select materialized.*
from {{ ref('mv_current_positions') }} as materialized
where not exists (
    select from pending_positions where pending_positions.position_id = materialized.position_id
)

union all

select * from repriced_table
