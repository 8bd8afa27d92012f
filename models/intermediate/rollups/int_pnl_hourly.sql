{#- The hourly level, rolled up from trades (macros/rollups.sql). -#}
{{ config(
    materialized='incremental',
    meta={'partitioning': 'hourly'},
    pre_hook="{{ replace_dirty_buckets('hour') }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['period_start', 'strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(trade_segments(ref('int_trade_pnl')), 'hour', 'period_start, trade_id') }}
