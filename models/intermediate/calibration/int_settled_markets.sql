{#- The outcomes of the calibration (DESIGN.md, "Calibration and model evaluation"): one row
    per settled market, from its current version: status settled with a settlement value of 0
    or 1 (1 = YES won). -#}

with

markets as (

    select * from {{ ref('stg_markets') }}

),

final as (

    select
        market_id,
        league,
        market_type,
        close_ts,
        settlement_value::integer as outcome
    from markets
    where status = 'settled' and settlement_value in (0, 1)

)

select * from final
