{#- The all time level, rolled up from yearly (macros/rollups.sql). -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ replace_dirty_buckets('all_time') }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(ref('int_pnl_yearly'), 'all_time') }}
