{#- Every valid version of each market (quarantined rows left out), with its validity range
    [valid_from, valid_to) for point-in-time joins: valid_from <= t and t < valid_to. -#}

with

versions as (

    select * from {{ ref('base_markets') }}
    where quarantine_reason is null

),

final as (

    select
        market_key,
        market_id,
        ticker,
        league,
        market_type,
        event_start_ts,
        close_ts,
        yes_bid,
        yes_ask,
        no_bid,
        no_ask,
        volume,
        status,
        settlement_value,
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
