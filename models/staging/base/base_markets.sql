{#- Every raw market version, with quarantine_reason null unless it breaks the SCD rule
    (macros/quarantine.sql). -#}

with

source as (

    select
        markets.*,
        to_jsonb(markets) as record
    from {{ source('raw', 'markets') }} as markets

),

classified as (

    {{ scd_current_version_rule(
        'source', ['market_id'], 'market_key', "format('market %s', market_id)"
    ) }}

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
        loaded_at,
        quarantine_reason,
        quarantine_detail,
        record
    from classified

)

select * from final
