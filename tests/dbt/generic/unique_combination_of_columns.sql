{#- One failure per combination of `columns` that occurs on more than one row. Where a unique
    index on the columns enforces the grain (macros/unique_index.sql), only the rows it cannot
    see are read: none, or those with a null in its nullable columns (an index whose nulls are
    distinct lets two such rows be equal here). -#}
{% test unique_combination_of_columns(model, columns) %}
{%- set hidden_by_nulls = unique_index_on(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if hidden_by_nulls is not none %}
where {% if hidden_by_nulls %}{{ hidden_by_nulls | join(' is null or ') }} is null{% else %}false{% endif %}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
