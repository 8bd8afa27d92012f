{#- On demand (precog bench): analyses/strategy_comparison.sql computed at query time, nothing
    materialized. The strategy's positions (raw.positions serves as the index: any version of a
    position naming one of its versions) are priced through the staging views by the one trade
    P&L definition, composed by the strategy mart's own macro and shown by the panel's. -#}
with

strategy_versions as (

    select strategy_id
    from {{ ref('stg_strategies') }}
    where strategy_name = {{ panel_parameter('strategy_name', 'value_hunter', 'text') }}

),

strategy_positions as materialized (

    select distinct position_id
    from {{ source('raw', 'positions') }}
    where strategy_id in (select strategy_id from strategy_versions)

),

priced_trades as materialized (

    {{ trade_pnl('strategy_positions') }}

),

strategy_trades as (

    select * from priced_trades
    where strategy_id in (select strategy_id from strategy_versions)

),

strategy_days as (

    {{ strategy_days('strategy_trades') }}

),

performance as (

    {{ published(contract_columns('mv_strategy_performance'), strategy_performance('strategy_days')) }}

),

versions as (

    {{ chosen_strategy_versions('performance') }}

)

{{ strategy_comparison_panel('versions') }}
