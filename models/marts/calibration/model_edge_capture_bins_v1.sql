{#- Realized edge by predicted-edge bin, version 1: per (model_id, strategy_id, edge_bin) with
    at least one trade, the edge-capture figures of model_edge_capture over the closing trades
    whose edge at entry falls in the bin. Bins are left-closed, of width var
    edge_capture_bin_width (w): edge_bin = floor(edge_at_entry / w), covering
    [edge_bin x w, (edge_bin + 1) x w); negative edges get negative bins. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'strategy_id', 'edge_bin'], 'unique': True},
    ],
) }}
{%- set width = var('edge_capture_bin_width') -%}
{%- set scale = calibration_scale() -%}

with

sums as (

    select
        model_id,
        strategy_id,
        edge_bin,
        positions,
        closing_trades,
        closed_contracts as edge_contracts,
        predicted_edge_sum,
        realized_pnl,
        clv_contracts,
        closing_line_value_sum
    from {{ ref('int_edge_capture_components') }}
    where edge_bin is not null

),

final as (

    select
        model_id,
        strategy_id,
        edge_bin,
        edge_bin * {{ width }}::numeric as edge_bin_lower,
        (edge_bin + 1) * {{ width }}::numeric as edge_bin_upper,
        positions,
        closing_trades,
        edge_contracts,
        round({{ exact_ratio('predicted_edge_sum', 'edge_contracts') }}, {{ scale }})
            as predicted_edge,
        round({{ exact_ratio('realized_pnl', 'edge_contracts') }}, {{ scale }})
            as realized_edge,
        realized_pnl,
        round({{ exact_ratio('realized_pnl', 'predicted_edge_sum') }}, {{ scale }})
            as capture_ratio,
        round({{ exact_ratio('closing_line_value_sum', 'clv_contracts') }}, {{ scale }})
            as closing_line_value
    from sums

)

select * from final
