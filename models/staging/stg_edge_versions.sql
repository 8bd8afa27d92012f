{#- Every valid version of each edge (quarantined rows left out), with its validity range
    [valid_from, valid_to) for point-in-time joins: valid_from <= t and t < valid_to. -#}

with

versions as (

    select * from {{ ref('base_edges') }}
    where quarantine_reason is null

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
        row_start_ts as valid_from,
        coalesce(row_end_ts, 'infinity'::timestamptz) as valid_to,
        loaded_at
    from versions

)

select * from final
