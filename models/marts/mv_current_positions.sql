{#- Dashboard mart of the positions held now (DESIGN.md, "Marts"): those whose current version
    is open or monitoring and which still hold contracts by their trades, priced at the mid of
    their side's current quotes (intermediate.int_open_positions). One row per position_id.
    Quantities and prices come from the trades, not from the trading system's own figures. The
    few open positions' versions and markets are looked up one by one (lookup_join), not read
    from whole staging views: this mart is rebuilt every hour. Its watermark (how far into the
    change log it is built) tells live_current_positions what to add. -#}
{{ config(
    meta={'partitioning': 'hourly'},
    post_hook="{{ advance_watermark() }}",
    indexes=[
        {'columns': ['position_id'], 'unique': True},
        {'columns': ['opened_at']},
        {'columns': ['strategy_id']},
    ],
) }}

{{ position_table(ref('int_open_positions')) }}
