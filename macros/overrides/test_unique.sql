{#- Overrides dbt's unique test: the same query, which reads nothing when a unique index on the
    column enforces it (macros/unique_index.sql). -#}
{% macro default__test_unique(model, column_name) -%}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    {%- if unique_index_on(model, [column_name]) is not none %}
    and false  -- {{ model }} has a unique index on {{ column_name }}
    {%- endif %}
group by {{ column_name }}
having count(*) > 1
{%- endmacro %}
