{#- Dashboard mart of the market overview (DESIGN.md, "Marts"): each model's current edge on
    each market not settled yet (open or closed to trading), beside the market's current quotes,
    volume and status, and the desk's win rate on the market's type (closing trades won over
    closing trades, summed over `trade_counts`: rows with market_type, closed_trades and
    winning_trades, such as the hourly level, which this hourly mart runs after). One row per
    (market_id, model_id) with a current edge. -#}
{% macro market_edges(trade_counts) -%}
    with

    -- Settled markets' edges are history (the calibration marts score them): the overview keeps
    -- the markets in play, so it stays small however long the history. The current version of
    -- one is a current raw row not settled, which an index finds (migration 0012); each is
    -- then looked up through the staging views (lookup_join), as are its edges.
    markets_in_play as (

        select distinct market_id
        from {{ source('raw', 'markets') }}
        where row_current_ind and status <> 'settled'

    ),

    markets as (

        select markets.*
        from markets_in_play
        {{ lookup_join(true, 'inner', ref('stg_markets'), 'markets',
            "markets.market_id = markets_in_play.market_id and markets.status <> 'settled'") }}

    ),

    edges as (

        select edges.*
        from markets
        {{ lookup_join(true, 'inner', ref('stg_edges'), 'edges',
            'edges.market_id = markets.market_id') }}

    ),

    models as (

        select model_id, model_name, model_version from {{ ref('stg_probability_models') }}

    ),

    market_type_results as (

        select
            market_type,
            sum(closed_trades)::bigint as closed_trades,
            sum(winning_trades)::bigint as winning_trades
        from {{ trade_counts }}
        group by market_type

    ),

    final as (

        select
            edges.market_id,
            edges.model_id,
            markets.ticker,
            markets.league,
            markets.market_type,
            markets.event_start_ts,
            markets.close_ts,
            markets.status as market_status,
            markets.yes_bid,
            markets.yes_ask,
            markets.no_bid,
            markets.no_ask,
            (markets.yes_bid + markets.yes_ask) / 2 as yes_mid,
            markets.volume,
            models.model_name,
            models.model_version,
            edges.predicted_prob,
            edges.market_price,
            edges.edge,
            edges.confidence,
            edges.valid_from as edge_updated_at,
            coalesce(market_type_results.closed_trades, 0) as market_type_closed_trades,
            coalesce(market_type_results.winning_trades, 0) as market_type_winning_trades,
            {{ win_rate('market_type_results.winning_trades', 'market_type_results.closed_trades') }}
                as market_type_win_rate
        from edges
        inner join markets on markets.market_id = edges.market_id
        left join models on models.model_id = edges.model_id
        left join market_type_results on market_type_results.market_type = markets.market_type

    )

    select * from final
{%- endmacro %}
