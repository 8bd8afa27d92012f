{#- Overrides dbt's drop_relation: before the old relation of a rebuild goes, the views reading it
    are re-pointed at its replacement (macros/zero_downtime.sql says why and how). -#}
{% macro drop_relation(relation) -%}
    {%- if not relation.identifier.endswith('__dbt_backup') -%}
        {{ return(adapter.dispatch('drop_relation', 'dbt')(relation)) }}
    {%- endif -%}
    {%- set dependents = run_query(dependent_views_sql(relation)) -%}
    {% call statement('drop_relation', auto_begin=False) -%}
        {{ repoint_dependent_views_and_drop(relation) }}
    {%- endcall %}
    {%- for view in dependents if run_query(exists_sql(view[0], view[1])).rows[0][0] -%}
        {%- do adapter.cache_added(api.Relation.create(
            database=relation.database, schema=view[0], identifier=view[1], type='view')) -%}
    {%- endfor -%}
{%- endmacro %}
