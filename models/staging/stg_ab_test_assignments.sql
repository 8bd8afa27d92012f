with

source as (

    select * from {{ source('raw', 'ab_test_assignments') }}

),

renamed as (

    select
        assignment_id,
        experiment_name,
        market_id,
        variant,
        stratification_key,
        assigned_at,
        loaded_at
    from source

)

select * from renamed
