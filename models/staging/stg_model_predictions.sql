with

source as (

    select * from {{ source('raw', 'model_predictions') }}

),

renamed as (

    select
        prediction_id,
        model_id,
        market_id,
        predicted_prob,
        prediction_timestamp,
        (features ->> 'elo_diff')::numeric as elo_diff,
        (features ->> 'home_advantage')::numeric as home_advantage,
        (features ->> 'market_mid')::numeric as market_mid,
        features,
        loaded_at
    from source

)

select * from renamed
