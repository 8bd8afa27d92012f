{#- Every raw market version, with quarantine_reason null unless it breaks the SCD rule
    (macros/quarantine.sql) or settles at a value other than 0 or 1 (settlement_not_binary). -#}

with

source as (

    select
        markets.*,
        to_jsonb(markets) as record
    from {{ source('raw', 'markets') }} as markets

),

scd_checked as (

    {{ scd_current_version_rule(
        'source', ['market_id'], 'market_key', "format('market %s', market_id)"
    ) }}

),

classified as (

    select
        scd_checked.*,
        -- a binary contract settles at 0 or 1: any other value would invent outcomes
        case
            when quarantine_reason is null
                and settlement_value is not null and settlement_value not in (0, 1)
                then 'settlement_not_binary'
        end as value_reason
    from scd_checked

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
        coalesce(quarantine_reason, value_reason) as quarantine_reason,
        case value_reason
            when 'settlement_not_binary' then format(
                'market %s settles at %s: a binary contract settles at 0 or 1',
                market_id, settlement_value
            )
            else quarantine_detail
        end as quarantine_detail,
        record
    from classified

)

select * from final
