{#- Overrides dbt's relationships test, whose child side may be a landing window
    (macros/test_windows.sql): then each child value's parent is looked up (LATERAL, LIMIT 1:
    the value pushes down through the parent view's windows to a raw index) instead of joining
    the whole parent view, which the planner, expecting one child row, would recompute for
    every child row. On whole views, the child
    values with no parent, each once, by EXCEPT: a hashed set operation, which no row estimate
    can turn into a nested loop over two views (the quarantine filters make the planner expect
    a few hundred rows of each; a join took hours at 1M trades). -#}
{% macro default__test_relationships(model, column_name, to, field) -%}
    {%- if not (model | string).endswith(' as landing_window') -%}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
)

select from_field from child
except
select {{ field }} from {{ to }}
    {%- else -%}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
)

select child.from_field
from child
left join lateral (
    select true as found from {{ to }} as parent
    where parent.{{ field }} = child.from_field
    limit 1
) as parent on true
where parent.found is null
    {%- endif -%}
{%- endmacro %}
