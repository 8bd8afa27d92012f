{#- The weekly level, rolled up from daily (ISO weeks do not nest in months) (macros/rollups.sql). -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ replace_dirty_buckets('week') }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['period_start', 'strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(ref('int_pnl_daily'), 'week') }}
