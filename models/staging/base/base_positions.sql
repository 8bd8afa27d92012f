{#- Every raw position version, with quarantine_reason null unless it breaks the SCD rule
    (macros/quarantine.sql). -#}

with

source as (

    select
        positions.*,
        to_jsonb(positions) as record
    from {{ source('raw', 'positions') }} as positions

),

classified as (

    {{ scd_current_version_rule(
        'source', ['position_id'], 'position_key', "format('position %s', position_id)"
    ) }}

),

final as (

    select
        position_key,
        position_id,
        market_id,
        strategy_id,
        model_id,
        side,
        quantity,
        entry_price,
        current_price,
        unrealized_pnl,
        status,
        row_current_ind,
        row_start_ts,
        row_end_ts,
        row_version,
        loaded_at,
        quarantine_reason,
        quarantine_detail,
        record
    from classified

)

select * from final
