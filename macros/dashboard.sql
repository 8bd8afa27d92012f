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
