{#- The eight time levels (DESIGN.md): buckets in the reporting time zone, additive and
    composable components stored at every level, derived metrics recomputed from them. -#}

{% macro reporting_timezone() -%}
    '{{ var("reporting_timezone") }}'
{%- endmacro %}

{#- Start of the bucket of `ts` at `grain` (hour, day, week, month, quarter, year; all_time has
    none). date_trunc in the zone keeps the two instants of a repeated hour apart and starts
    weeks on ISO Mondays. -#}
{% macro bucket_start(grain, ts) -%}
    {%- if grain == 'all_time' -%}
        null::timestamptz
    {%- else -%}
        date_trunc('{{ grain }}', {{ ts }}, {{ reporting_timezone() }})
    {%- endif -%}
{%- endmacro %}

{#- End of the bucket starting at `start`: an hour is 60 real minutes; a day and longer end at
    the next local midnight, so days of 23 and 25 hours come out right. -#}
{% macro bucket_end(grain, start) -%}
    {%- if grain == 'all_time' -%}
        null::timestamptz
    {%- elif grain == 'hour' -%}
        {{ start }} + interval '1 hour'
    {%- else -%}
        {%- set length = {'day': '1 day', 'week': '7 days', 'month': '1 month',
            'quarter': '3 months', 'year': '1 year'}[grain] %}
        (({{ start }} at time zone {{ reporting_timezone() }}) + interval '{{ length }}')
            at time zone {{ reporting_timezone() }}
    {%- endif -%}
{%- endmacro %}

{% macro rollup_dimensions(prefix='') -%}
    {{ prefix }}strategy_id, {{ prefix }}model_id, {{ prefix }}league, {{ prefix }}market_type
{%- endmacro %}

{#- The trades of `relation` (int_trade_pnl) as the finest segments of the rollups: each trade
    with the components of a bucket holding it alone. -#}
{% macro trade_segments(relation) -%}
    (
        select
            trade_id,
            execution_timestamp as period_start,
            {{ rollup_dimensions() }},
            1::bigint as total_trades,
            (realized_pnl is not null)::int::bigint as closed_trades,
            coalesce(realized_pnl > 0, false)::int::bigint as winning_trades,
            coalesce(realized_pnl < 0, false)::int::bigint as losing_trades,
            quantity as contracts,
            price * quantity as notional,
            fees,
            greatest(coalesce(realized_pnl, 0), 0) as gross_profit,
            least(coalesce(realized_pnl, 0), 0) as gross_loss,
            coalesce(realized_pnl, 0) as net_pnl,
            coalesce(edge_at_entry, 0) as edge_sum,
            (edge_at_entry is not null)::int::bigint as edge_count,
            greatest(coalesce(realized_pnl, 0), 0) as peak_pnl,
            least(coalesce(realized_pnl, 0), 0) as trough_pnl,
            greatest(-coalesce(realized_pnl, 0), 0) as max_drawdown
        from {{ relation }}
    )
{%- endmacro %}

{#- A level's composable components, in trade_segments' order: a level's rows are segments too. -#}
{% macro level_components(prefix='') -%}
    {%- for column in ['total_trades', 'closed_trades', 'winning_trades', 'losing_trades',
        'contracts', 'notional', 'fees', 'gross_profit', 'gross_loss', 'net_pnl', 'edge_sum',
        'edge_count', 'peak_pnl', 'trough_pnl', 'max_drawdown'] -%}
        {{ prefix }}{{ column }}{{ ',' if not loop.last }}
    {% endfor -%}
{%- endmacro %}

{#- One level: the buckets of `grain` built from the finer rows of `child` (the trade segments,
    or the level below).

    Additive components are summed. Max drawdown composes in time order (DESIGN.md): a child
    segment starts at the cumulative P&L of the segments before it in the bucket, so its peak and
    trough sit at that offset; the bucket's drawdown is the largest of the children's own and of
    an earlier peak minus a later trough. `dimensions` are those of the levels, or coarser ones
    for a mart that composes its own buckets from trades. Sharpe keeps the first and last active day and the sum
    of squared daily P&L (a day's P&L is its net P&L; the sum over days is net_pnl itself). -#}
{% macro rollup_level(child, grain, segment_order='period_start', dimensions=rollup_dimensions()) -%}
{%- set preceding_segments = "partition by bucket, " ~ dimensions
    ~ " order by " ~ segment_order ~ " rows between unbounded preceding and 1 preceding" -%}
{%- set local_day = "(bucket at time zone " ~ reporting_timezone() ~ ")::date" -%}
with

children as (

    select
        {{ bucket_start(grain, 'child.period_start') }} as bucket,
        child.*
    {%- if is_incremental() and grain != 'all_time' %}
    -- Each dirty period looks its children up by its range on period_start, which the child's
    -- index finds; each child is read at most once, however many dirty buckets share the period.
    -- As a join, the planner estimates a range with bounds from another table at a third of the
    -- child and sorts it whole (the hourly level's increment at 10M: 23.7 s instead of 0.4 s).
    from (select distinct bucket from {{ dirty_buckets_table() }}) as dirty_periods
    {{ lookup_join(true, 'inner', child, 'child',
        bucket_contains('dirty_periods.bucket', 'child.period_start', grain)) }}
    inner join {{ dirty_buckets_table() }} as dirty
        on dirty.bucket = dirty_periods.bucket
        and {{ same_dimensions('child', 'dirty', dimensions) }}
    {%- else %}
    from {{ child }} as child
    {%- if is_incremental() %}
    inner join {{ dirty_buckets_table() }} as dirty
        on {{ same_dimensions('child', 'dirty', dimensions) }}
    {%- endif %}
    {%- endif %}

),

offsets as (

    select
        *,
        coalesce(sum(net_pnl) over ({{ preceding_segments }}), 0) as pnl_before
    from children

),

segments as (

    select
        *,
        pnl_before + peak_pnl as peak_level,
        pnl_before + trough_pnl as trough_level,
        max(pnl_before + peak_pnl) over ({{ preceding_segments }}) as earlier_peak_level
    from offsets

)

select
    bucket as period_start,
    {{ bucket_end(grain, 'bucket') }} as period_end,
    {{ dimensions }},
    sum(total_trades)::bigint as total_trades,
    sum(closed_trades)::bigint as closed_trades,
    sum(winning_trades)::bigint as winning_trades,
    sum(losing_trades)::bigint as losing_trades,
    sum(contracts) as contracts,
    sum(notional) as notional,
    sum(fees) as fees,
    sum(gross_profit) as gross_profit,
    sum(gross_loss) as gross_loss,
    sum(net_pnl) as net_pnl,
    sum(edge_sum) as edge_sum,
    sum(edge_count)::bigint as edge_count,
    max(peak_level) as peak_pnl,
    min(trough_level) as trough_pnl,
    greatest(max(max_drawdown), max(earlier_peak_level - trough_level)) as max_drawdown,
    {%- if grain == 'hour' %}
    null::date as first_pnl_day,
    null::date as last_pnl_day,
    null::numeric as daily_pnl_sum_squares
    {%- elif grain == 'day' %}
    case when sum(closed_trades) > 0 then {{ local_day }} end as first_pnl_day,
    case when sum(closed_trades) > 0 then {{ local_day }} end as last_pnl_day,
    sum(net_pnl) * sum(net_pnl) as daily_pnl_sum_squares
    {%- else %}
    min(first_pnl_day) as first_pnl_day,
    max(last_pnl_day) as last_pnl_day,
    sum(daily_pnl_sum_squares) as daily_pnl_sum_squares
    {%- endif %}
from segments
group by bucket, {{ dimensions }}
{%- endmacro %}

{#- The derived metrics of DESIGN.md, from a row's own components: the one definition of each. -#}
{% macro derived_metrics() -%}
    {{ rate_metrics() }},
    max_drawdown,
    {{ sharpe_ratio('net_pnl', 'daily_pnl_sum_squares', 'first_pnl_day', 'last_pnl_day') }}
        as sharpe_ratio
{%- endmacro %}

{% macro win_rate(winning_trades='winning_trades', closed_trades='closed_trades') -%}
    case when {{ closed_trades }} > 0 then {{ winning_trades }}::numeric / {{ closed_trades }} end
{%- endmacro %}

{#- The rates, from summed counts and sums: never an average of rates. -#}
{% macro rate_metrics() -%}
    {{ win_rate() }} as win_rate,
    case when edge_count > 0 then edge_sum / edge_count end as average_edge,
    case when gross_loss < 0 then gross_profit / -gross_loss end as profit_factor
{%- endmacro %}

{#- Mean over sample standard deviation of daily net P&L, times sqrt(365), over the calendar days
    from the first to the last active day (days without a closing trade count as 0); null with
    fewer than 2 days or no variation. -#}
{% macro sharpe_ratio(pnl_sum, pnl_sum_squares, first_day, last_day) -%}
    {%- set days = "(" ~ last_day ~ " - " ~ first_day ~ " + 1)::numeric" -%}
    case
        when {{ days }} >= 2
            and {{ pnl_sum_squares }} * {{ days }} - {{ pnl_sum }} * {{ pnl_sum }} > 0
        then ({{ pnl_sum }} / {{ days }})
            / sqrt(({{ pnl_sum_squares }} - {{ pnl_sum }} * {{ pnl_sum }} / {{ days }})
                / ({{ days }} - 1))
            * sqrt(365::numeric)
    end
{%- endmacro %}

{#- How far `cumulative` is below its highest value so far (which starts at 0), over the rows of
    `over` (a window in running order): the running drawdown. -#}
{% macro running_drawdown(cumulative, over) -%}
    greatest(max({{ cumulative }}) over {{ over }}, 0) - {{ cumulative }}
{%- endmacro %}
