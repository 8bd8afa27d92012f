{#- All eight levels in one relation (DESIGN.md, "marts.performance_tracking"): one row per
    (aggregation_level, period_start, trade_id, dimensions), buckets with at least one trade.
    A view over the level tables, so it is always as current as they are; the derived metrics
    come from each row's own components (macros/rollups.sql, derived_metrics). -#}
{{ config(materialized='view') }}
{%- set levels = [
    ('hourly', 'int_pnl_hourly'),
    ('daily', 'int_pnl_daily'),
    ('weekly', 'int_pnl_weekly'),
    ('monthly', 'int_pnl_monthly'),
    ('quarterly', 'int_pnl_quarterly'),
    ('yearly', 'int_pnl_yearly'),
    ('all_time', 'int_pnl_all_time'),
] %}

with

trades as (

    select
        'trade'::text as aggregation_level,
        period_start,
        period_start as period_end,
        trade_id,
        {{ rollup_dimensions() }},
        total_trades, closed_trades, winning_trades, losing_trades,
        contracts, notional, fees, gross_profit, gross_loss, net_pnl,
        edge_sum, edge_count, max_drawdown,
        null::numeric as daily_pnl_sum_squares,
        null::date as first_pnl_day,
        null::date as last_pnl_day
    from {{ trade_segments(ref('int_trade_pnl')) }} as trades

),

levels as (
    {% for level, model in levels %}
    select
        '{{ level }}'::text as aggregation_level,
        period_start,
        period_end,
        null::bigint as trade_id,
        {{ rollup_dimensions() }},
        total_trades, closed_trades, winning_trades, losing_trades,
        contracts, notional, fees, gross_profit, gross_loss, net_pnl,
        edge_sum, edge_count, max_drawdown,
        daily_pnl_sum_squares, first_pnl_day, last_pnl_day
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

all_levels as (

    select * from trades
    union all
    select * from levels

)

select
    aggregation_level,
    period_start,
    period_end,
    trade_id,
    {{ rollup_dimensions() }},
    total_trades,
    closed_trades,
    winning_trades,
    losing_trades,
    contracts,
    notional,
    fees,
    gross_profit,
    gross_loss,
    net_pnl,
    {{ derived_metrics() }}
from all_levels
