{#- On demand (precog bench): the A/B analysis' input, intermediate.int_ab_market_outcomes,
    computed at query time: its own macro over every trade priced through the staging views by
    the one trade P&L definition (the experiments' strategies hold a third of the positions:
    looking them up one by one costs more than pricing all). -#}
with

priced_trades as materialized (

    {{ trade_pnl() }}

),

outcomes as (

    {{ ab_market_outcomes('priced_trades') }}

)

select * from outcomes
