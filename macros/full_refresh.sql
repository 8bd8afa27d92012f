{#- When an incremental model owes a full refresh (a guard: the override of should_full_refresh,
    macros/overrides/, refuses increments then; Python decides the refresh, by the same rule,
    in precog/warehouse/bookkeeping.py), and the record of what each was built from. -#}

{#- Why this incremental model owes a full refresh, or none (never built with this bookkeeping:
    its first build is whole anyway). -#}
{% macro full_refresh_owed() -%}
    {%- if not execute or model.config.materialized != 'incremental' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set rows = run_query(
        "select reporting_timezone, (select jsonb_object_agg(table_name, file) from ("
        ~ raw_files() ~ ") as now_files (table_name, file)
            where file is distinct from (built.raw_files ->> table_name)::oid)"
        ~ " from precog_meta.built_from as built where model = '" ~ this.identifier ~ "'"
    ).rows -%}
    {%- if rows | length == 0 -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set zone, replaced = rows[0][0], rows[0][1] -%}
    {%- if zone != var('reporting_timezone') -%}
        {%- set reason = 'the reporting time zone changed from ' ~ zone ~ ' to ' ~ var('reporting_timezone') -%}
    {%- elif replaced is not none -%}
        {%- set reason = 'raw was replaced since its last build (' ~ replaced ~ ')' -%}
    {%- else -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(reason) -%}
{%- endmacro %}

{#- Each raw table and its file, as (table_name, file) rows. -#}
{% macro raw_files() -%}
    select relname::text, pg_relation_filenode(oid)
    from pg_class
    where relnamespace = 'raw'::regnamespace and relkind = 'r'
{%- endmacro %}

{#- Post-hook of every model (dbt_project.yml): a table records when it was built and how long
    its transaction took so far (the dashboard's monitoring: marts.model_builds); an incremental
    model also what it was just built from, in the transaction that built it. -#}
{% macro record_build() -%}
    {%- if model.config.materialized in ('incremental', 'table') -%}
    insert into precog_meta.built_from (model, reporting_timezone, raw_files, build_seconds)
    select '{{ this.identifier }}', {{ reporting_timezone() }},
        coalesce(jsonb_object_agg(table_name, file), '{}'),
        extract(epoch from clock_timestamp() - now())
    from ({{ raw_files() }}) as files (table_name, file)
    on conflict (model) do update set reporting_timezone = excluded.reporting_timezone,
        raw_files = excluded.raw_files, built_at = now(), build_seconds = excluded.build_seconds
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
