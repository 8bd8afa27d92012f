{#- A dashboard panel's parameter (analyses/). Compiled by `dbt compile`, it is the var's value
    (or `default`) as a literal, so each analysis reads as the query of its panel; compiled by the
    dashboard (var dashboard_bind_parameters), it is the bind parameter %(name)s, which the
    dashboard server fills per request (precog/dashboard/panels.py). Either way, typed. -#}
{% macro panel_parameter(name, default, sql_type) -%}
    {%- if var('dashboard_bind_parameters', false) -%}
        %({{ name }})s::{{ sql_type }}
    {%- else -%}
        {%- set value = var(name, default) -%}
        {%- if value is none -%}
            null::{{ sql_type }}
        {%- elif value is string -%}
            '{{ value | replace("'", "''") }}'::{{ sql_type }}
        {%- elif value is iterable -%}
            array[{% for item in value %}'{{ item | replace("'", "''") }}'{{ ',' if not loop.last }}{% endfor %}]::{{ sql_type }}
        {%- else -%}
            {{ value }}::{{ sql_type }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A panel's optional filter: `column` equals the parameter, or anything when it is null. -#}
{% macro panel_filter(column, name, sql_type) -%}
    ({{ panel_parameter(name, none, sql_type) }} is null or {{ column }} = {{ panel_parameter(name, none, sql_type) }})
{%- endmacro %}

{#- Give `target` (a table the migrations create) the column comments of `documented` (the mart
    built from it, with the same column names), so a BI tool documents both from one YAML. -#}
{% macro copy_column_comments(documented, target) -%}
do $copy$
declare
    described record;
begin
    for described in
        select attname, col_description(attrelid, attnum) as description
        from pg_attribute
        where attrelid = {{ quoted(documented) }}::regclass and attnum > 0
            and not attisdropped
            and attname in (
                select attname from pg_attribute
                where attrelid = {{ quoted(target) }}::regclass and attnum > 0
                    and not attisdropped
            )
    loop
        execute format(
            'comment on column %s.%I is %L',
            {{ quoted(target) }}, described.attname, described.description
        );
    end loop;
end
$copy$
{%- endmacro %}

{#- `value` as a SQL string literal: a relation's name holds the database's name, which comes
    from the environment and is data. -#}
{% macro quoted(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- The P&L chart's rows from `days` (pnl_date, net_pnl, total_trades, closed_trades,
    winning_trades, is_today; one row per day): the running total and its drawdown from the
    days' sums, never by adding groups' drawdowns. A query, the last of its analysis: shared by
    analyses/daily_pnl.sql and its on-demand answer. -#}
{% macro daily_pnl_panel(days) -%}
    select
        pnl_date as date,
        net_pnl,
        total_trades,
        closed_trades,
        {{ win_rate() }} as win_rate,
        cumulative_pnl,
        {{ running_drawdown('cumulative_pnl', '(order by pnl_date)') }} as drawdown,
        is_today
    from (
        select *, sum(net_pnl) over (order by pnl_date) as cumulative_pnl from {{ days }}
    ) as running
    order by pnl_date
{%- endmacro %}

{#- The strategy comparison's rows from `performance` (rows of mv_strategy_performance, one
    strategy's versions): each group, and per version over all of them (league and market_type
    'ALL'), the components summed and the rates derived from the sums, never averaged. Drawdown
    and the Sharpe ratio are not additive: per group only. A query, the last of its analysis:
    shared by analyses/strategy_comparison.sql and its on-demand answer. -#}
{% macro strategy_comparison_panel(performance) -%}
    select
        strategy_name,
        strategy_version,
        league,
        market_type,
        total_trades,
        closed_trades,
        net_pnl,
        {{ rate_metrics() }},
        max_drawdown,
        sharpe_ratio
    from (
        select
            strategy_name, strategy_version, league, market_type, total_trades, closed_trades,
            winning_trades, net_pnl, gross_profit, gross_loss, edge_sum, edge_count,
            max_drawdown, sharpe_ratio
        from {{ performance }}

        union all

        select
            strategy_name,
            strategy_version,
            'ALL',
            'ALL',
            sum(total_trades),
            sum(closed_trades),
            sum(winning_trades),
            sum(net_pnl),
            sum(gross_profit),
            sum(gross_loss),
            sum(edge_sum),
            sum(edge_count),
            null::numeric,
            null::numeric
        from {{ performance }}
        group by strategy_name, strategy_version
    ) as groups
    order by strategy_version, league = 'ALL' desc, league, market_type
{%- endmacro %}
{#- The versions of strategy_performance rows (`relation`) the strategy comparison shows:
    parameter strategy_name (default value_hunter) and versions (default all). -#}
{% macro chosen_strategy_versions(relation) -%}
    select *
    from {{ relation }}
    where strategy_name = {{ panel_parameter('strategy_name', 'value_hunter', 'text') }}
        and (
            {{ panel_parameter('versions', none, 'text[]') }} is null
            or strategy_version = any({{ panel_parameter('versions', none, 'text[]') }})
        )
{%- endmacro %}

{#- The P&L chart's optional filters (parameters strategy_id, model_id, league, market_type) on
    rows with those columns. -#}
{% macro daily_pnl_filters() -%}
    {{ panel_filter('strategy_id', 'strategy_id', 'bigint') }}
    and {{ panel_filter('model_id', 'model_id', 'bigint') }}
    and {{ panel_filter('league', 'league', 'text') }}
    and {{ panel_filter('market_type', 'market_type', 'text') }}
{%- endmacro %}

{#- The reliability diagram's rows: `bins` (model_calibration_bins' columns) of one model
    version and league, all time (parameters model_id, default 1, and league, default ALL),
    with the Brier score and ECE of `accuracy` (rows with model_id, league, brier_score, ece,
    all time) beside them. A query, the last of its analysis. -#}
{% macro calibration_curve_panel(bins, accuracy) -%}
    select
        bins.model_id,
        bins.league,
        bins.bin,
        bins.bin_lower,
        bins.bin_upper,
        bins.n_forecasts,
        bins.mean_predicted,
        bins.observed_frequency,
        bins.wilson_lower,
        bins.wilson_upper,
        accuracy.brier_score,
        accuracy.ece
    from {{ bins }} as bins
    inner join {{ accuracy }} as accuracy
        on accuracy.model_id = bins.model_id and accuracy.league = bins.league
    where bins.model_id = {{ panel_parameter('model_id', 1, 'bigint') }}
        and bins.league = {{ panel_parameter('league', 'ALL', 'text') }}
        and bins.calibration_window = 'all_time'
    order by bins.bin
{%- endmacro %}
