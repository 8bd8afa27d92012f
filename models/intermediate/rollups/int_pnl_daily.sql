{#- The daily level, rolled up from hourly (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('day') }}",
) }}

{{ rollup_level(ref('int_pnl_hourly'), 'day') }}
