{#- A position's figures, one home for the materialized marts and the live view
    (DESIGN.md, "P&L semantics"). -#}

{#- One row per position of `trades` (trade-level P&L rows, as int_trade_pnl): quantities,
    average entry price, realized P&L so far, open quantity. -#}
{% macro position_totals(trades) -%}
    select
        position_id,
        market_id,
        strategy_id,
        model_id,
        league,
        market_type,
        side,
        sum(quantity) filter (where action = 'entry') as entered_quantity,
        coalesce(sum(quantity) filter (where action <> 'entry'), 0) as closed_quantity,
        max(average_entry_price) as average_entry_price,
        coalesce(sum(realized_pnl), 0) as realized_pnl,
        min(execution_timestamp) as opened_at,
        max(execution_timestamp) as last_trade_at,
        sum(quantity) filter (where action = 'entry')
            - coalesce(sum(quantity) filter (where action <> 'entry'), 0) as open_quantity
    from {{ trades }}
    group by position_id, market_id, strategy_id, model_id, league, market_type, side
{%- endmacro %}

{#- The positions of `position_totals` still open, priced at the mid of their side's current
    quotes, with their unrealized P&L. The few markets are looked up one by one. -#}
{% macro priced_open_positions(positions) -%}
    with

    priced as (

        select
            open_positions.*,
            markets.status as market_status,
            {{ side_value(
                'open_positions.side',
                '(markets.yes_bid + markets.yes_ask) / 2',
                '(markets.no_bid + markets.no_ask) / 2',
            ) }} as current_price
        from {{ positions }} as open_positions
        cross join lateral (
            select status, yes_bid, yes_ask, no_bid, no_ask
            from {{ ref('stg_markets') }} as stg_markets
            where stg_markets.market_id = open_positions.market_id
            offset 0
        ) as markets
        where open_positions.open_quantity > 0

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
{%- endmacro %}

{#- The position table's rows (mv_current_positions' columns) for `open_positions` (as
    priced_open_positions): the current version open or monitoring, with the names of market,
    strategy and model. -#}
{% macro position_table(open_positions) -%}
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
    from {{ open_positions }} as open_positions
    {{ lookup_join(true, 'inner', ref('stg_positions'), 'positions',
        "positions.position_id = open_positions.position_id
            and positions.status in ('open', 'monitoring')") }}
    {{ lookup_join(true, 'left', ref('stg_markets'), 'markets',
        'markets.market_id = open_positions.market_id') }}
    left join {{ ref('stg_strategies') }} as strategies
        on strategies.strategy_id = open_positions.strategy_id
    left join {{ ref('stg_probability_models') }} as models
        on models.model_id = open_positions.model_id
{%- endmacro %}

{#- The position table's rows (position_table) of the positions in `positions` (a relation of
    position_id), each priced whole from its trades: trade P&L, totals, the open ones priced at
    the mid. The live view reprices its pending positions so; the bench's on-demand answer, the
    held ones. A whole query (its own WITH), for a CTE. -#}
{% macro repriced_position_table(positions) -%}
    with

    repriced_trades as (

        {{ trade_pnl(positions) }}

    ),

    repriced_positions as (

        {{ position_totals('repriced_trades') }}

    ),

    repriced_open_positions as (

        {{ priced_open_positions('repriced_positions') }}

    )

    {{ position_table('repriced_open_positions') }}
{%- endmacro %}
