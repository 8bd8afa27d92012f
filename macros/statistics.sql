{#- Post-hook of every model, after its commit (dbt_project.yml): a table the planner has no
    statistics for is analyzed, a table model each time it is rebuilt, an
    incremental model after its first build or a full refresh (an increment adds little to what
    was sampled). Without statistics (autovacuum off, or not there yet) the planner guesses: at
    10M trades it deleted an hour's positions from int_trade_pnl by reading all 10.5M rows
    (2.7 s) instead of looking up their 2,000 (10 ms). -#}
{% macro analyze_when_unknown() -%}
    {%- if model.config.materialized == 'table' -%}
    analyze {{ this }}
    {%- elif model.config.materialized == 'incremental' -%}
    do $analyze$
    begin
        if not exists (
            select from pg_stats
            where schemaname = {{ dbt.string_literal(this.schema) }}
                and tablename = {{ dbt.string_literal(this.identifier) }}
        ) then
            analyze {{ this }};
        end if;
    end
    $analyze$
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
