{#- Dashboard mart of the positions held now (DESIGN.md, "Marts"): those whose current version
    is open or monitoring and which still hold contracts by their trades, priced at the mid of
    their side's current quotes (intermediate.int_open_positions). One row per position_id.
    Quantities and prices come from the trades, not from the trading system's own figures. The
    few open positions' versions and markets are looked up one by one (lookup_join), not read
    from whole staging views: this mart is rebuilt every hour. -#}
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
    {{ lookup_join(true, 'inner', ref('stg_positions'), 'positions',
        "positions.position_id = open_positions.position_id
            and positions.status in ('open', 'monitoring')") }}
    {{ lookup_join(true, 'left', ref('stg_markets'), 'markets',
        'markets.market_id = open_positions.market_id') }}
    left join strategies on strategies.strategy_id = open_positions.strategy_id
    left join models on models.model_id = open_positions.model_id

)

select * from final
