{#- What a live view (live_pnl_today, live_current_positions) adds to the last run's `built`
    (the relation it reads): the positions with rows `built` has not processed, which it
    reprices whole from their trades. Not processed: in the change log beyond `built`'s
    watermark, or with trades or position versions landed since the last capture had seen
    everything (complete_before). -#}
{% macro pending_positions(built) -%}
    {%- set built_through -%}
        (
            select coalesce(max(captured_through), '-infinity')
            from {{ source('precog_meta', 'build_watermarks') }}
            where model = '{{ built.identifier }}'
        )
    {%- endset -%}
    select changes.position_id
    from {{ ref('int_position_changes') }} as changes
    where {{ since_watermark('changes.captured_at', built_through) }}

    union

    select trades.position_id
    from {{ source('raw', 'trades') }} as trades
    where {{ since_watermark('trades.loaded_at', last_complete_before(), inclusive=true) }}

    union

    select positions.position_id
    from {{ source('raw', 'positions') }} as positions
    where {{ since_watermark('positions.loaded_at', last_complete_before(), inclusive=true) }}
{%- endmacro %}

{% macro last_complete_before() -%}
    (select coalesce(max(complete_before), '-infinity') from {{ ref('int_position_changes') }})
{%- endmacro %}
