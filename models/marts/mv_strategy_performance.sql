{#- Dashboard mart comparing strategy versions: all time from the day buckets of
    int_strategy_pnl_daily. Defined by macro strategy_performance (macros/strategy_performance.sql),
    which the bench's on-demand answer applies to the staging views. -#}
{{ config(
    indexes=[
        {'columns': ['strategy_id', 'league', 'market_type'], 'unique': True},
        {'columns': ['strategy_name', 'strategy_version']},
    ],
) }}
{{ strategy_performance(ref('int_strategy_pnl_daily')) }}
