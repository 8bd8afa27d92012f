{#- One failure per combination of `columns` that occurs on more than one row. Where a unique
    index on the columns enforces the grain (macros/unique_index.sql), only the rows it cannot
    see are read: none, or those with a null in the columns (an index whose nulls are distinct
    lets two such rows be equal here). -#}
{% test unique_combination_of_columns(model, columns) %}
{%- set index = unique_index_on(model, columns) %}

select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if index is not none %}
where {% if index %}false{% else %}{{ columns | join(' is null or ') }} is null{% endif %}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
