{#- The closing trades (exits and settlements) of int_trade_pnl with what edge capture compares:
    edge at entry, realized P&L, P&L before fees and closing-line value per contract (the
    closing price of the side, from the market's last YES mid before close, minus the average
    entry price). Read by int_edge_capture_components, whose sums the edge-capture marts publish. -#}
{{ config(materialized='view') }}

select
    trades.trade_id,
    trades.model_id,
    trades.strategy_id,
    trades.position_id,
    trades.quantity,
    trades.edge_at_entry,
    trades.realized_pnl,
    (trades.price - trades.average_entry_price) * trades.quantity as gross_pnl,
    {{ side_value('trades.side', 'closing.closing_yes_mid') }}
        - trades.average_entry_price as closing_line_value
from {{ ref('int_trade_pnl') }} as trades
left join {{ ref('int_market_closing_prices') }} as closing
    on closing.market_id = trades.market_id
where trades.action <> 'entry'
