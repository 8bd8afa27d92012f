{#- Dashboard mart of the positions held now (DESIGN.md, "Marts"): those whose current version
    is open or monitoring and which still hold contracts by their trades, priced at the mid of
    their side's current quotes (intermediate.int_open_positions). One row per position_id.
    Quantities and prices come from the trades, not from the trading system's own figures. -#}
{{ config(
    meta={'partitioning': 'hourly'},
    indexes=[
        {'columns': ['position_id'], 'unique': True},
        {'columns': ['opened_at']},
        {'columns': ['strategy_id']},
    ],
) }}

with

open_positions as (

    select * from {{ ref('int_open_positions') }}

),

positions as (

    select position_id, status from {{ ref('stg_positions') }}
    where status in ('open', 'monitoring')

),

markets as (

    select market_id, ticker, close_ts from {{ ref('stg_markets') }}

),

strategies as (

    select strategy_id, strategy_name, strategy_version from {{ ref('stg_strategies') }}

),

models as (

    select model_id, model_name, model_version from {{ ref('stg_probability_models') }}

),

final as (

    select
        open_positions.position_id,
        positions.status as position_status,
        open_positions.market_id,
        markets.ticker,
        open_positions.league,
        open_positions.market_type,
        open_positions.market_status,
        markets.close_ts,
        open_positions.strategy_id,
        strategies.strategy_name,
        strategies.strategy_version,
        open_positions.model_id,
        models.model_name,
        models.model_version,
        open_positions.side,
        open_positions.open_quantity,
        open_positions.average_entry_price,
        open_positions.current_price,
        open_positions.unrealized_pnl,
        open_positions.realized_pnl,
        open_positions.opened_at,
        open_positions.last_trade_at
    from open_positions
    inner join positions on positions.position_id = open_positions.position_id
    left join markets on markets.market_id = open_positions.market_id
    left join strategies on strategies.strategy_id = open_positions.strategy_id
    left join models on models.model_id = open_positions.model_id

)

select * from final
