{#- The quarterly level, rolled up from monthly (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('quarter') }}",
) }}

{{ rollup_level(ref('int_pnl_monthly'), 'quarter') }}
