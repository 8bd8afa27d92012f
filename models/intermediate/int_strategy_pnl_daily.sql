{#- The day buckets of marts.mv_strategy_performance (macros/strategy_performance.sql): by
    strategy version, league and market type, all models together, composed from trades like a
    level. Incremental like the levels: each run replaces the buckets its changed positions touch
    (macros/incremental.sql), so the mart sums days instead of recomposing every trade daily. -#}
{{ config(
    materialized='incremental',
    pre_hook="{{ replace_dirty_buckets('day', strategy_dimensions()) }}",
    post_hook="{{ advance_watermark() }}",
    indexes=[{'columns': ['period_start', 'strategy_id', 'league', 'market_type'], 'unique': true}],
) }}

{{ strategy_days(ref('int_trade_pnl')) }}
