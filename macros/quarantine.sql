{#-
    The SCD Type 2 rule of the source contract, written once for markets, positions and edges:
    exactly one version per business key carries row_current_ind. Of several current versions
    of one key, the one with the highest row_version is kept (ties: latest row_start_ts, then
    highest surrogate key); the others get quarantine_reason 'multiple_current_versions'.

    Selects every column of `relation` (a CTE name) plus quarantine_reason and
    quarantine_detail. `key_label` is a SQL expression naming the business key in the detail,
    e.g. "format('market %s', market_id)".

    The windows are partitioned by the business key, so a filter on it pushes down.
-#}
{% macro scd_current_version_rule(relation, business_key, surrogate_key, key_label) -%}
    {%- set key = business_key | join(', ') -%}
    select
        ranked.*,
        case
            when row_current_ind and current_versions > 1 and current_rank > 1
                then 'multiple_current_versions'
        end as quarantine_reason,
        case
            when row_current_ind and current_versions > 1 and current_rank > 1 then format(
                '%s has %s current versions; version %s (%s %s) is kept, this one is version %s',
                {{ key_label }}, current_versions, kept_version, '{{ surrogate_key }}', kept_key,
                row_version
            )
        end as quarantine_detail
    from (
        select
            {{ relation }}.*,
            count(*) filter (where row_current_ind) over current_first as current_versions,
            row_number() over current_first as current_rank,
            first_value(row_version) over current_first as kept_version,
            first_value({{ surrogate_key }}) over current_first as kept_key
        from {{ relation }}
        window current_first as (
            partition by {{ key }}
            order by row_current_ind desc, row_version desc, row_start_ts desc,
                {{ surrogate_key }} desc
            rows between unbounded preceding and unbounded following
        )
    ) as ranked
{%- endmacro %}
