{#- The all time level, rolled up from yearly (macros/rollups.sql). -#}
{{ config(
    pre_hook="{{ replace_dirty_buckets('all_time') }}",
    indexes=[{'columns': ['strategy_id', 'model_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ rollup_level(ref('int_pnl_yearly'), 'all_time') }}
