{#- Every raw position version, with quarantine_reason null unless it breaks the SCD rule
    (macros/quarantine.sql) or a rule of its own, in this order: unknown_side (not yes or no),
    unknown_strategy and unknown_model (no such version in raw.strategies or
    raw.probability_models), unknown_market (no valid version of its market). A position with
    no valid version cannot be priced: its trades are quarantined too (base_trades,
    invalid_position). Each lookup is by the version's own key, so a filter on position_id
    still pushes down. -#}

with

source as (

    select
        positions.*,
        to_jsonb(positions) as record
    from {{ source('raw', 'positions') }} as positions

),

scd_checked as (

    {{ scd_current_version_rule(
        'source', ['position_id'], 'position_key', "format('position %s', position_id)"
    ) }}

),

classified as (

    select
        scd_checked.*,
        case
            when quarantine_reason is not null then null
            when side not in ('yes', 'no') then 'unknown_side'
            when not exists (
                select from {{ source('raw', 'strategies') }} as strategies
                where strategies.strategy_id = scd_checked.strategy_id
            ) then 'unknown_strategy'
            when not exists (
                select from {{ source('raw', 'probability_models') }} as models
                where models.model_id = scd_checked.model_id
            ) then 'unknown_model'
            when not exists (
                select from {{ ref('base_markets') }} as markets
                where markets.market_id = scd_checked.market_id
                    and markets.quarantine_reason is null
            ) then 'unknown_market'
        end as value_reason
    from scd_checked

),

final as (

    select
        position_key,
        position_id,
        market_id,
        strategy_id,
        model_id,
        side,
        quantity,
        entry_price,
        current_price,
        unrealized_pnl,
        status,
        row_current_ind,
        row_start_ts,
        row_end_ts,
        row_version,
        loaded_at,
        coalesce(quarantine_reason, value_reason) as quarantine_reason,
        case value_reason
            when 'unknown_side' then format(
                'position %s: side %L is not yes or no', position_id, side
            )
            when 'unknown_strategy' then format(
                'position %s: strategy %s is not in raw.strategies', position_id, strategy_id
            )
            when 'unknown_model' then format(
                'position %s: model %s is not in raw.probability_models', position_id, model_id
            )
            when 'unknown_market' then format(
                'position %s: market %s has no valid version in raw.markets',
                position_id, market_id
            )
            else quarantine_detail
        end as quarantine_detail,
        record
    from classified

)

select * from final
