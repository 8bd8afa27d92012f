{#- Trade-level P&L: macros/trade_pnl.sql. Incremental by position: each run deletes and
    rebuilds the trades of the positions in the change log (macros/incremental.sql). A full build
    is a bulk join of whole views, whose quarantine filters leave the planner guessing one row:
    nested loops are switched off for it. -#}
{{ config(
    materialized='incremental',
    meta={'partitioning': 'hourly'},
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where position_id in {{ unprocessed_changes() }}{% endif %}",
        "{% if not is_incremental() %}set local enable_nestloop = off{% endif %}",
    ],
    post_hook=[
        "{{ advance_watermark() }}",
        "{{ check_constraint('fees_not_negative', 'fees >= 0') }}",
        "{{ not_null_columns(['trade_id', 'position_id'] + rollup_dimensions().split(', ')) }}",
    ],
    indexes=[{'columns': ['position_id']}, {'columns': ['execution_timestamp']}],
) }}

{{ trade_pnl(unprocessed_changes() if is_incremental() else none) }}
