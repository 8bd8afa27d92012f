{#- What the live views (live_pnl_today, live_current_positions) add to the last run: the
    positions with rows not yet processed, which they reprice whole from their trades. Not yet
    processed: in the change log beyond int_trade_pnl's watermark, or with trades landed since the
    last capture had seen everything (complete_before). -#}
{% macro pending_positions() -%}
    select changes.position_id
    from {{ ref('int_position_changes') }} as changes
    where changes.captured_at > (
        select coalesce(max(captured_through), '-infinity')
        from {{ source('precog_meta', 'build_watermarks') }}
        where model = '{{ ref("int_trade_pnl").identifier }}'
    )

    union

    select trades.position_id
    from {{ source('raw', 'trades') }} as trades
    where trades.loaded_at >= (
        select coalesce(max(complete_before), '-infinity') from {{ ref('int_position_changes') }}
    )
{%- endmacro %}
