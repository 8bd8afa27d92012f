{#-
    SCD Type 2 validity: the versions of one key cover disjoint half-open ranges
    [valid_from, valid_to), each non-empty. One failure per version that is empty or reversed,
    or that starts before an earlier-starting version of the same key has ended (compared with
    the latest end of all earlier versions, so a long version overlapping several later ones is
    caught for each of them).

    key: a column name or a list of column names (the business key).
-#}
{% test scd_ranges_do_not_overlap(model, key, valid_from='valid_from', valid_to='valid_to') %}
{%- set key_columns = [key] if key is string else key -%}

with

versions as (

    select
        {{ key_columns | join(', ') }},
        {{ valid_from }} as range_start,
        {{ valid_to }} as range_end,
        max({{ valid_to }}) over (
            partition by {{ key_columns | join(', ') }}
            order by {{ valid_from }}, {{ valid_to }}
            rows between unbounded preceding and 1 preceding
        ) as latest_earlier_end
    from {{ model }}

)

select *
from versions
where range_start >= range_end or range_start < latest_earlier_end

{% endtest %}
