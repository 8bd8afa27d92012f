{#- Grain tests against the database's own guarantee. A valid unique index on exactly `columns`
    (no expression, no predicate, nothing included) makes PostgreSQL refuse a duplicate on every
    write, so a run cannot leave one behind, and a test need not read every row of a table of
    millions each hour: the build fails instead. Returns none without such an index (or when
    `relation` is a subquery: a landing window), else the columns in which a null hides a row
    from the index (its nulls are distinct): none of them if it treats nulls as equal or if they
    are all NOT NULL. -#}
{% macro unique_index_on(relation, columns) -%}
    {%- if not execute or relation is string or relation.identifier is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- for column in columns if not column.replace('_', '').isalnum() -%}
        {%- do return(none) -%}  {#- an expression: no index of plain columns covers it -#}
    {%- endfor -%}
    {%- set sql -%}
        select case when not indexes.indnullsnotdistinct then (
                select coalesce(string_agg(attributes.attname::text, ' ' order by attributes.attnum), '')
                from pg_attribute as attributes
                where attributes.attrelid = indexes.indrelid
                    and attributes.attnum = any(indexes.indkey) and not attributes.attnotnull
            ) else '' end
        from pg_index as indexes
        where indexes.indrelid = to_regclass({{ dbt.string_literal(relation.render()) }})
            and indexes.indisunique and indexes.indisvalid
            and indexes.indpred is null and indexes.indexprs is null
            and indexes.indnatts = {{ columns | length }} and indexes.indnkeyatts = indexes.indnatts
            and (
                select array_agg(attributes.attname::text order by attributes.attname::text)
                from pg_attribute as attributes
                where attributes.attrelid = indexes.indrelid
                    and attributes.attnum = any(indexes.indkey)
            ) = array[{% for column in columns | sort %}{{ dbt.string_literal(column) }}
                {%- if not loop.last %}, {% endif %}{% endfor %}]::text[]
        order by indexes.indnullsnotdistinct desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(sql).rows -%}
    {%- do return(rows[0][0].split() if rows | length > 0 else none) -%}
{%- endmacro %}
