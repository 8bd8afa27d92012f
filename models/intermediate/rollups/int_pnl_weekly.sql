{#- The weekly level, rolled up from daily (ISO weeks do not nest in months) (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('week') }}",
) }}

{{ rollup_level(ref('int_pnl_daily'), 'week') }}
