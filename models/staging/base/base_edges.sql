{#- Every raw edge version, with quarantine_reason null unless it breaks the SCD rule
    (macros/quarantine.sql). The business key is (market_id, model_id). -#}

with

source as (

    select
        edges.*,
        to_jsonb(edges) as record
    from {{ source('raw', 'edges') }} as edges

),

classified as (

    {{ scd_current_version_rule(
        'source', ['market_id', 'model_id'], 'edge_key',
        "format('edge of market %s and model %s', market_id, model_id)"
    ) }}

),

final as (

    select
        edge_key,
        market_id,
        model_id,
        predicted_prob,
        market_price,
        edge,
        confidence,
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
