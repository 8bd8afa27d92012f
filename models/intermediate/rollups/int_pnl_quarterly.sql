{#- The quarterly level, rolled up from monthly (macros/rollups.sql). -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ replace_dirty_buckets('quarter') }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['period_start', 'strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(ref('int_pnl_monthly'), 'quarter') }}
