{#- Overrides dbt's not_null test: the same query, which reads nothing where the column of a
    table is NOT NULL (PostgreSQL refuses a null on every write: macros/check_constraints.sql).
    Views and landing windows are read as before. -#}
{% macro default__test_not_null(model, column_name) -%}
{%- set column_list = '*' if should_store_failures() else column_name -%}
select {{ column_list }}
from {{ model }}
where {{ column_name }} is null
    {%- if declared_not_null(model, column_name) %}
    and false  -- {{ model }}.{{ column_name }} is NOT NULL
    {%- endif %}
{%- endmacro %}

{#- Whether `column` of `relation`, a table this project builds, is declared NOT NULL. -#}
{% macro declared_not_null(relation, column) -%}
    {%- if not execute or relation is string or relation.identifier is none
        or not column.replace('_', '').isalnum() -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set tables = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.alias == relation.identifier and node.schema == relation.schema
        and node.config.materialized in ('table', 'incremental') -%}
        {%- do tables.append(node) -%}
    {%- endfor -%}
    {%- if not tables -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set rows = run_query(
        "select attnotnull from pg_attribute where attrelid = to_regclass("
        ~ dbt.string_literal(relation.render()) ~ ") and attname = "
        ~ dbt.string_literal(column) ~ " and not attisdropped"
    ).rows -%}
    {%- do return(rows | length > 0 and rows[0][0]) -%}
{%- endmacro %}
