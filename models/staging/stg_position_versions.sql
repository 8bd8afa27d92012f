{#- Every valid version of each position (quarantined rows left out), with its validity range
    [valid_from, valid_to) for point-in-time joins: valid_from <= t and t < valid_to. -#}

with

versions as (

    select * from {{ ref('base_positions') }}
    where quarantine_reason is null

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
        row_start_ts as valid_from,
        coalesce(row_end_ts, 'infinity'::timestamptz) as valid_to,
        loaded_at
    from versions

)

select * from final
