{#- Edge capture, version 1 (DESIGN.md, "Calibration and model evaluation"): per model version
    and strategy version, how much of the edge the model predicted at entry the trades realized.

    Population: the closing trades (exits and settlements) of intermediate.int_trade_pnl whose
    position had an edge at entry (edge_at_entry not null), weighted by closed quantity. Per
    contract:
      predicted_edge    = sum(edge_at_entry x quantity) / contracts
      realized_edge     = sum(realized_pnl) / contracts        (net of all fees)
      capture_ratio     = realized_edge / predicted_edge
      closing_line_value = sum((closing price of the side - average entry price) x quantity)
                           / contracts, over those of the trades whose market has a closing mid
    The closing price of the side is the market's last YES mid before close
    (intermediate.int_market_closing_prices) for yes positions, 1 minus it for no positions. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'strategy_id'], 'unique': True},
        {'columns': ['strategy_id']},
    ],
) }}
{%- set scale = calibration_scale() -%}

with

components as (

    select * from {{ ref('int_edge_capture_components') }}

),

-- The bins summed: edge_bin is null exactly where the position had no edge at entry.
sums as (

    select
        model_id,
        strategy_id,
        sum(positions)::bigint as positions,
        sum(closing_trades)::bigint as closing_trades,
        sum(closed_contracts) as closed_contracts,
        coalesce(sum(closed_contracts) filter (where edge_bin is not null), 0) as edge_contracts,
        sum(predicted_edge_sum) as predicted_edge_sum,
        sum(realized_pnl) filter (where edge_bin is not null) as realized_pnl,
        sum(gross_pnl) filter (where edge_bin is not null) as gross_pnl,
        sum(clv_contracts) filter (where edge_bin is not null) as clv_contracts,
        sum(closing_line_value_sum) filter (where edge_bin is not null) as closing_line_value_sum
    from components
    group by model_id, strategy_id

),

models as (

    select model_id, model_name, model_version
    from {{ ref('stg_probability_models') }}

),

strategies as (

    select strategy_id, strategy_name, strategy_version
    from {{ ref('stg_strategies') }}

),

final as (

    select
        sums.model_id,
        models.model_name,
        models.model_version,
        sums.strategy_id,
        strategies.strategy_name,
        strategies.strategy_version,
        sums.positions,
        sums.closing_trades,
        sums.closed_contracts,
        sums.edge_contracts,
        round({{ exact_ratio('sums.predicted_edge_sum', 'sums.edge_contracts') }}, {{ scale }})
            as predicted_edge,
        round({{ exact_ratio('sums.realized_pnl', 'sums.edge_contracts') }}, {{ scale }})
            as realized_edge,
        round({{ exact_ratio('sums.gross_pnl', 'sums.edge_contracts') }}, {{ scale }})
            as realized_edge_before_fees,
        sums.realized_pnl,
        round({{ exact_ratio('sums.realized_pnl', 'sums.predicted_edge_sum') }}, {{ scale }})
            as capture_ratio,
        round(
            {{ exact_ratio('sums.closing_line_value_sum', 'sums.clv_contracts') }}, {{ scale }}
        ) as closing_line_value
    from sums
    left join models on models.model_id = sums.model_id
    left join strategies on strategies.strategy_id = sums.strategy_id

)

select * from final
