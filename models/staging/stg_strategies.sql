with

source as (

    select * from {{ source('raw', 'strategies') }}

),

renamed as (

    select
        strategy_id,
        strategy_name,
        strategy_version,
        status,
        (config ->> 'min_edge')::numeric as min_edge,
        (config ->> 'max_position_contracts')::numeric::integer as max_position_contracts,
        (config ->> 'scale_in_entries')::numeric::integer as scale_in_entries,
        config ->> 'exit_rule' as exit_rule,
        (config ->> 'take_profit')::numeric as take_profit,
        config ->> 'model_name' as model_name,
        config,
        loaded_at
    from source

)

select * from renamed
