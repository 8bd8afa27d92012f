{#- The positions still open, with their unrealized P&L (DESIGN.md, "P&L semantics"):
    (current price of the side - average entry price) x open quantity, the current price of a
    side being the mid of its market's current quotes. A view, so that it prices with the
    quotes of the moment: it looks up the few open positions' markets one by one. -#}
{{ config(materialized='view', meta={'partitioning': 'hourly'}) }}

with

open_positions as (

    select * from {{ ref('int_position_pnl') }}
    where open_quantity > 0

),

priced as (

    select
        open_positions.*,
        markets.status as market_status,
        {{ side_value(
            'open_positions.side',
            '(markets.yes_bid + markets.yes_ask) / 2',
            '(markets.no_bid + markets.no_ask) / 2',
        ) }} as current_price
    from open_positions
    cross join lateral (
        select status, yes_bid, yes_ask, no_bid, no_ask
        from {{ ref('stg_markets') }} as stg_markets
        where stg_markets.market_id = open_positions.market_id
        offset 0
    ) as markets

)

select
    position_id,
    market_id,
    strategy_id,
    model_id,
    league,
    market_type,
    side,
    open_quantity,
    average_entry_price,
    realized_pnl,
    opened_at,
    last_trade_at,
    market_status,
    current_price,
    (current_price - average_entry_price) * open_quantity as unrealized_pnl
from priced
