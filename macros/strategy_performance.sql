{#- Dashboard mart comparing strategy versions (DESIGN.md, "Marts"): all-time totals per
    (strategy_id, league, market_type), all models together. Not a sum of the all-time level's
    rows: max drawdown and the Sharpe ratio do not add up across models, whose trades
    interleave. So the buckets are composed from the trades with the levels' own macro
    (macros/rollups.sql), by day (strategy_days: intermediate.int_strategy_pnl_daily keeps them,
    incrementally) then all time, and every rate is derived from the summed components: the
    source document's AVG(win_rate) would be an average of averages. -#}

{% macro strategy_dimensions() -%}
    strategy_id, league, market_type
{%- endmacro %}

{#- The day buckets of `trades` (rows as int_trade_pnl) by strategy_dimensions(). -#}
{% macro strategy_days(trades) -%}
    {{ rollup_level(trade_segments(trades), 'day', 'period_start, trade_id', strategy_dimensions()) }}
{%- endmacro %}

{#- The mart's rows from `days` (rows as strategy_days). -#}
{% macro strategy_performance(days) -%}
    with

    all_time as (

        {{ rollup_level(days, 'all_time', dimensions=strategy_dimensions()) }}

    ),

    strategies as (

        select strategy_id, strategy_name, strategy_version, status from {{ ref('stg_strategies') }}

    ),

    final as (

        select
            all_time.strategy_id,
            strategies.strategy_name,
            strategies.strategy_version,
            strategies.status as strategy_status,
            all_time.league,
            all_time.market_type,
            all_time.total_trades,
            all_time.closed_trades,
            all_time.winning_trades,
            all_time.losing_trades,
            all_time.contracts,
            all_time.notional,
            all_time.fees,
            all_time.gross_profit,
            all_time.gross_loss,
            all_time.net_pnl,
            all_time.edge_sum,
            all_time.edge_count,
            {{ derived_metrics() }},
            all_time.first_pnl_day,
            all_time.last_pnl_day
        from all_time
        left join strategies on strategies.strategy_id = all_time.strategy_id

    )

    select * from final
{%- endmacro %}
