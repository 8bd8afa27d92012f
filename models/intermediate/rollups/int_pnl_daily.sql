{#- The daily level, rolled up from hourly (macros/rollups.sql). -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ replace_dirty_buckets('day') }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['period_start', 'strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(ref('int_pnl_hourly'), 'day') }}
