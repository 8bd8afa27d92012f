{#- The valid trades: the rows of base_trades without a quarantine reason (one per trade_id). -#}

with

trades as (

    select * from {{ ref('base_trades') }}
    where quarantine_reason is null

),

final as (

    select
        trade_id,
        position_id,
        action,
        quantity,
        price,
        fees,
        execution_timestamp,
        loaded_at
    from trades

)

select * from final
