{#- The hourly level, rolled up from trades (macros/rollups.sql). -#}
{{ config(
    meta={'partitioning': 'hourly'},
    pre_hook="{{ replace_dirty_buckets('hour') }}",
) }}

{{ rollup_level(trade_segments(ref('int_trade_pnl')), 'hour', 'period_start, trade_id') }}
