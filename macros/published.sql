{#- Marts publish each column at the scale their contract declares (docs/DESIGN.md, "Published
    scales"): money at numeric(18,2), and so on. Everything before is exact; the cast, once, at
    the end, rounds half away from zero. A table's contract does it on insert (dbt creates the
    table with the declared types); a view through these macros (macros/overrides/
    create_view_as.sql); and the bench's on-demand answers too, so that they answer alike. -#}

{#- The contract's columns of a mart: of its latest version if it has versions. (Empty while
    dbt parses: the graph is not there yet, and nothing is run.) -#}
{% macro contract_columns(model_name) -%}
    {%- if not execute -%}
        {{ return({}) }}
    {%- endif -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.name == model_name
            and (node.version is none or node.version == node.latest_version) -%}
        {{ return(node.columns) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no model " ~ model_name) }}
{%- endmacro %}

{#- The rows of `sql` (a query with every column of `columns`) as the contract publishes them. -#}
{% macro published(columns, sql) -%}
    select
    {%- for column in columns.values() %}
        {% set name = adapter.quote(column.name) if column.get('quote') else column.name -%}
        cast({{ name }} as {{ column.data_type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    from (
        {{ sql }}
    ) as published
{%- endmacro %}

{#- One value of `expression` as mart `model_name` publishes its column `column`. -#}
{% macro published_value(model_name, column, expression=none) -%}
    {%- if not execute -%}
        {{ return(expression or column) }}
    {%- endif -%}
    cast({{ expression or column }} as {{ contract_columns(model_name)[column].data_type }})
{%- endmacro %}
