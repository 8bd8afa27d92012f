with

source as (

    select * from {{ source('raw', 'ab_experiments') }}

),

renamed as (

    select
        experiment_name,
        control_strategy_id,
        treatment_strategy_id,
        traffic_split,
        start_ts,
        end_ts,
        status,
        primary_metric,
        alpha,
        loaded_at
    from source

)

select * from renamed
