{#- Additive components of edge capture, one row per (model_id, strategy_id, edge_bin) with at
    least one closing trade; edge_bin is null for the trades whose position had no edge at entry.
    Read by model_edge_capture (summed over the bins) and model_edge_capture_bins (one row per
    bin), so the closing trades are read once a build, not once per mart.

    Bins are left-closed, of width var edge_capture_bin_width (w): edge_bin =
    floor(edge_at_entry / w). Every closing trade of a position has the position's edge at entry,
    so a position falls in one bin and its distinct count adds up across bins. -#}
{{ config(
    indexes=[{'columns': ['model_id', 'strategy_id', 'edge_bin'], 'unique': True}],
) }}
{%- set width = var('edge_capture_bin_width') -%}

with

closing_trades as (

    select
        *,
        floor(edge_at_entry / {{ width }}::numeric)::integer as edge_bin
    from {{ ref('int_closing_trade_edges') }}

),

components as (

    select
        model_id,
        strategy_id,
        edge_bin,
        count(distinct position_id) as positions,
        count(*) as closing_trades,
        sum(quantity) as closed_contracts,
        sum(edge_at_entry * quantity) as predicted_edge_sum,
        sum(realized_pnl) as realized_pnl,
        sum(gross_pnl) as gross_pnl,
        sum(quantity) filter (where closing_line_value is not null) as clv_contracts,
        sum(closing_line_value * quantity) as closing_line_value_sum
    from closing_trades
    group by model_id, strategy_id, edge_bin

)

select * from components
