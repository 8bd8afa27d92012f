{#- On demand (precog bench): analyses/current_positions.sql computed at query time, nothing
    materialized. The candidates are the positions whose current raw row is open or monitoring
    (raw.positions serves as the index), repriced whole through the staging views as the live
    view reprices its pending ones (macros/positions.sql, repriced_position_table). -#}
with

candidate_positions as materialized (

    select distinct position_id
    from {{ source('raw', 'positions') }}
    where row_current_ind and status in ('open', 'monitoring')

),

position_table as (

    {{ published(
        contract_columns('live_current_positions'), repriced_position_table('candidate_positions')
    ) }}

)

select *, count(*) over () as positions_held
from position_table
order by last_trade_at desc, position_id
limit {{ panel_parameter('position_limit', 100, 'integer') }}
