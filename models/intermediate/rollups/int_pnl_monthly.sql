{#- The monthly level, rolled up from daily (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('month') }}",
) }}

{{ rollup_level(ref('int_pnl_daily'), 'month') }}
