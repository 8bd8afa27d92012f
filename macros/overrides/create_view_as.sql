{#- Overrides dbt's create_view_as: a view under an enforced contract publishes each column as the
    contract declares it (macros/published.sql), as a table does through its contract's DDL; dbt's
    contract check compares type names only (numeric, not its scale). -#}
{% macro postgres__create_view_as(relation, sql) -%}
    {%- if config.get('contract').enforced -%}
        {%- set sql = published(model['columns'], sql) -%}
    {%- endif -%}
    {{ return(default__create_view_as(relation, sql)) }}
{%- endmacro %}
