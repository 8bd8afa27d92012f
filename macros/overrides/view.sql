{#- Overrides dbt's view materialization: a view is kept as it is when it is still the relation
    built last time (its oid) from the same definition (view_definition_checksum). Recreating an
    unchanged view changes nothing and costs a swap and the re-pointing of every view over it
    (zero_downtime.sql), with their locks: 17 staging views every hourly run. --full-refresh
    recreates every view; so does the next run after a migration (database.migrate forgets the
    builds). -#}
{% materialization view, adapter='postgres' %}
    {%- set checksum = view_definition_checksum() -%}
    {%- if not (flags.FULL_REFRESH or config.get('full_refresh')) -%}
        {%- call statement('main', fetch_result=True, auto_begin=False) -%}
            select count(*) as unchanged from precog_meta.view_builds
            where schema_name = '{{ this.schema }}' and view_name = '{{ this.identifier }}'
                and checksum = '{{ checksum }}'
                and view_oid = to_regclass(format('%I.%I', '{{ this.schema }}', '{{ this.identifier }}'))
        {%- endcall -%}
        {%- if load_result('main').table.rows[0][0] > 0 -%}
            {{ return({'relations': [this.incorporate(type='view')]}) }}
        {%- endif -%}
    {%- endif -%}
    {%- set built = materialization_view_default() -%}
    {%- call statement('record_view_build', auto_begin=False) -%}
        insert into precog_meta.view_builds (schema_name, view_name, view_oid, checksum)
        values (
            '{{ this.schema }}', '{{ this.identifier }}',
            to_regclass(format('%I.%I', '{{ this.schema }}', '{{ this.identifier }}')),
            '{{ checksum }}'
        )
        on conflict (schema_name, view_name) do update
        set view_oid = excluded.view_oid, checksum = excluded.checksum, built_at = now()
    {%- endcall -%}
    {{ return(built) }}
{% endmaterialization %}

{#- What a view is built from: its compiled SQL, config and docs (grants, contract, comments), and
    the project around it (every node's checksum: a view reading `materialized.*` takes the
    columns its model has when the view is created). -#}
{% macro view_definition_checksum() -%}
    {%- set project = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- do project.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
    {%- endfor -%}
    {{ return(local_md5(
        sql ~ tojson(model.config) ~ model.description ~ tojson(model.columns)
        ~ (project | sort | join(','))
    )) }}
{%- endmacro %}
