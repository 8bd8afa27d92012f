{#- On demand (precog bench): analyses/market_overview.sql computed at query time, nothing
    materialized: the market-edge mart's own macro over the staging views, its win rates from
    every trade priced by the one trade P&L definition. -#}
with

priced_trades as materialized (

    {{ trade_pnl() }}

),

trade_counts as (

    select market_type, closed_trades, winning_trades
    from {{ trade_segments('priced_trades') }} as segments

),

market_edges as (

    {{ published(contract_columns('mv_market_edges'), market_edges('trade_counts')) }}

)

select *
from market_edges
where market_status = 'open'
order by abs(edge) desc, market_id, model_id
limit {{ panel_parameter('market_limit', 50, 'integer') }}
