{#- The input of the A/B analysis, one row per experiment and assigned market. Defined by
    macro ab_market_outcomes (macros/ab_market_outcomes.sql), which the bench's on-demand
    answer applies to the staging views. -#}
{{ config(
    indexes=[{'columns': ['experiment_name', 'variant']}],
) }}
{{ ab_market_outcomes(ref('int_trade_pnl')) }}
