with

source as (

    select * from {{ source('raw', 'probability_models') }}

),

renamed as (

    select
        model_id,
        model_name,
        model_version,
        status,
        config ->> 'family' as family,
        (config ->> 'temperature')::numeric as temperature,
        config,
        loaded_at
    from source

)

select * from renamed
