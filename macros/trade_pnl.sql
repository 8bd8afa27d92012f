{#- Trade-level P&L (DESIGN.md, "P&L semantics"), the one definition: every valid trade with
    its position's dimensions, average entry price, realized P&L and edge at entry. A position's
    P&L depends only on its own rows (a late entry changes the average entry price of every
    closing trade), so it can be computed for some positions alone: `changed_positions`, a
    relation of distinct position_id, restricts it to theirs, each looked up key by key
    (lookup_join); without it every trade is priced in one bulk join. Used by intermediate.int_trade_pnl and by the live
    view marts.live_pnl_today. -#}
{% macro trade_pnl(changed_positions=none) -%}
{%- set lookup = changed_positions is not none -%}
with

{% if changed_positions is not none %}
changes as (

    select * from {{ changed_positions }} as changes

),

trades as (

    select stg_trades.*
    from changes
    {{ lookup_join(lookup, 'inner', ref('stg_trades'), 'stg_trades',
        'stg_trades.position_id = changes.position_id') }}

),

-- A position's market, strategy, model and side are fixed when it opens: its first version,
-- looked up per position. Materialized: the planner then joins it to `entries` once, by hash;
-- inlined, it was estimated at one row and joined inside a nested loop, `entries` rescanned
-- for every position (quadratic in the positions priced: 60 ms for 731 at 10M trades).
positions as materialized (

    select first_version.*
    from changes
    cross join lateral (
        select position_id, market_id, strategy_id, model_id, side
        from {{ ref('stg_position_versions') }} as versions
        where versions.position_id = changes.position_id
        order by valid_from
        limit 1
    ) as first_version

),
{% else %}
trades as (

    select * from {{ ref('stg_trades') }}

),

-- A position's market, strategy, model and side are fixed when it opens.
positions as (

    select distinct on (position_id)
        position_id, market_id, strategy_id, model_id, side
    from {{ ref('stg_position_versions') }}
    order by position_id, valid_from

),
{% endif %}

entries as (

    select
        position_id,
        sum(quantity) as entered_quantity,
        sum(price * quantity) as entry_cost,
        sum(fees) as entry_fees,
        min(execution_timestamp) as first_entry_at
    from trades
    where action = 'entry'
    group by position_id

),

-- A market's league and type, from its first valid version: a market whose current version is
-- quarantined (say, a settlement_value of 0.5) still gives its positions their dimensions.
{% if not lookup %}
market_dimensions as (

    select distinct on (market_id) market_id, league, market_type
    from {{ ref('stg_market_versions') }}
    order by market_id, valid_from

),
{% endif %}

-- The model's probability of the position's side from the edge version in force at the first
-- entry: a point-in-time join on the version's range, never the current row.
positions_at_entry as (

    select
        positions.*,
        entries.entered_quantity,
        entries.entry_cost,
        entries.entry_fees,
        markets.league,
        markets.market_type,
        {{ side_value('positions.side', 'edge_version.predicted_prob') }} as side_probability
    from positions
    inner join entries on entries.position_id = positions.position_id
    {%- if lookup %}
    inner join lateral (
        select league, market_type from {{ ref('stg_market_versions') }} as versions
        where versions.market_id = positions.market_id
        order by valid_from
        limit 1
    ) as markets on true
    {%- else %}
    inner join market_dimensions as markets on markets.market_id = positions.market_id
    {%- endif %}
    {{ lookup_join(lookup, 'left', ref('stg_edge_versions'), 'edge_version',
        'edge_version.market_id = positions.market_id
            and edge_version.model_id = positions.model_id
            and edge_version.valid_from <= entries.first_entry_at
            and entries.first_entry_at < edge_version.valid_to') }}

),

priced as (

    select
        trades.trade_id,
        trades.position_id,
        positions.market_id,
        positions.strategy_id,
        positions.model_id,
        positions.league,
        positions.market_type,
        positions.side,
        trades.action,
        trades.quantity,
        trades.price,
        trades.fees,
        trades.execution_timestamp,
        trades.loaded_at,
        trades.action <> 'entry' as is_closing,
        positions.entry_cost / positions.entered_quantity as average_entry_price,
        -- (price - average entry) x quantity - own fees - entry fees pro rata to the quantity,
        -- with a single division so the figure is as exact as numeric allows.
        case when trades.action <> 'entry' then
            ((trades.price * positions.entered_quantity - positions.entry_cost) * trades.quantity
                - positions.entry_fees * trades.quantity) / positions.entered_quantity
            - trades.fees
        end as realized_pnl,
        case when trades.action <> 'entry' then
            positions.side_probability - positions.entry_cost / positions.entered_quantity
        end as edge_at_entry
    from trades
    inner join positions_at_entry as positions on positions.position_id = trades.position_id

)

select
    trade_id,
    position_id,
    market_id,
    strategy_id,
    model_id,
    league,
    market_type,
    side,
    action,
    quantity,
    price,
    fees,
    execution_timestamp,
    loaded_at,
    average_entry_price,
    realized_pnl,
    edge_at_entry
from priced
{%- endmacro %}

{#- Join `relation` (a staging view) as `alias` on `condition`. With `lookup` (few keys: an
    incremental build, the live view) each key is looked up: a LATERAL subquery whose key, a
    parameter, pushes down through the view's windows (partitioned by that key) to a raw index.
    OFFSET 0 keeps the planner from flattening it into one join over the whole view. Without it
    (a full build) the views are joined whole. -#}
{% macro lookup_join(lookup, kind, relation, alias, condition) -%}
    {%- if lookup -%}
    {{ kind }} join lateral (
        select * from {{ relation }} as {{ alias }} where {{ condition }} offset 0
    ) as {{ alias }} on true
    {%- else -%}
    {{ kind }} join {{ relation }} as {{ alias }} on {{ condition }}
    {%- endif -%}
{%- endmacro %}

{#- The value of a position's side: `yes_value` for a YES position, else `no_value` (by default
    1 - yes_value, as a NO contract pays when YES does not). -#}
{% macro side_value(side, yes_value, no_value=none) -%}
    case {{ side }}
        when 'yes' then {{ yes_value }}
        when 'no' then {{ no_value if no_value is not none else '1 - (' ~ yes_value ~ ')' }}
    end
{%- endmacro %}
