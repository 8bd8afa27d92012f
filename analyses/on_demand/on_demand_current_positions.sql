{#- On demand (precog bench): analyses/current_positions.sql computed at query time, nothing
    materialized. The candidates are the positions whose current raw row is open or monitoring
    (raw.positions serves as the index); their trades are priced through the staging views by
    the one trade P&L definition, and the position table built by the live view's macros
    (macros/positions.sql). -#}
with

candidate_positions as materialized (

    select distinct position_id
    from {{ source('raw', 'positions') }}
    where row_current_ind and status in ('open', 'monitoring')

),

priced_trades as materialized (

    {{ trade_pnl('candidate_positions') }}

),

position_rows as (

    {{ position_totals('priced_trades') }}

),

open_positions as (

    {{ priced_open_positions('position_rows') }}

),

position_table as (

    {{ position_table('open_positions') }}

)

select * from position_table
order by opened_at desc, position_id
