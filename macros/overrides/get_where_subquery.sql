{#- Overrides dbt's get_where_subquery (the relation a generic test reads): `where:
    __landing_window__`, which dbt_project.yml sets on the tests of models/staging, means the
    rows of the keys that landed in the run's window or are not validated yet
    (macros/test_windows.sql); any other `where` is dbt's own. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__landing_window__' -%}
        {%- do return(landing_window_subquery(relation)) -%}
    {%- endif -%}
    {%- do return(dbt.default__get_where_subquery(relation)) -%}
{%- endmacro %}
