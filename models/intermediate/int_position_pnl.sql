{#- One row per position with valid trades: quantities, average entry price, realized P&L so
    far. Incremental by position like int_trade_pnl (macros/incremental.sql): the positions in
    the change log are rebuilt from their trades. int_open_positions adds the unrealized P&L. -#}
{{ config(
    materialized='incremental',
    meta={'partitioning': 'hourly'},
    pre_hook="{% if is_incremental() %}delete from {{ this }} where position_id in {{ unprocessed_changes() }}{% endif %}",
    post_hook=[
        "{{ advance_watermark() }}",
        "{{ check_constraint('open_quantity_not_negative', 'open_quantity >= 0') }}",
        "{{ not_null_columns(['position_id']) }}",
    ],
    indexes=[{'columns': ['position_id'], 'unique': true}, {'columns': ['open_quantity']}],
) }}

with

trades as (

    select trades.*
    from {{ ref('int_trade_pnl') }} as trades
    {%- if is_incremental() %}
    where trades.position_id in {{ unprocessed_changes() }}
    {%- endif %}

),

positions as (

    {{ position_totals('trades') }}

)

select * from positions
