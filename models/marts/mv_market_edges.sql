{#- Dashboard mart of the market overview. Defined by macro market_edges
    (macros/market_edges.sql), which the bench's on-demand answer applies to the staging
    views. -#}
{{ config(
    meta={'partitioning': 'hourly'},
    indexes=[
        {'columns': ['market_id', 'model_id'], 'unique': True},
        {'columns': ['market_status', 'edge']},
    ],
) }}
{{ market_edges(ref('int_pnl_hourly')) }}
