{#- The yearly level, rolled up from quarterly (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('year') }}",
) }}

{{ rollup_level(ref('int_pnl_quarterly'), 'year') }}
