{#- The positions still open, with their unrealized P&L (DESIGN.md, "P&L semantics"):
    (current price of the side - average entry price) x open quantity, the current price of a
    side being the mid of its market's current quotes (macros/positions.sql). A view, so that it
    prices with the quotes of the moment: it looks up the few open positions' markets one by one. -#}
{{ config(materialized='view', meta={'partitioning': 'hourly'}) }}

{{ priced_open_positions(ref('int_position_pnl')) }}
