{#-
    Every raw trade, classified against the source contract (DESIGN.md, "Bad input"):
    quarantine_reason is null for a valid trade, else the code of the first rule it breaks.
    Each rule is written here once; stg_trades keeps the valid rows, `quarantine` the others.

    1. Row-level rules, in this order: duplicate_trade_id, unknown_action, price_out_of_range,
       settlement_not_binary, non_positive_quantity, negative_fees, future_execution,
       unknown_position, invalid_position (every version of the position is quarantined, so
       it cannot be priced: base_positions).
    2. Sequence rules, per position over the trades that passed the row-level rules, ordered by
       (execution_timestamp, trade_id): entry_after_closing, closing_without_entry,
       closing_more_than_open.

    Quarantine is derived: every rule is re-evaluated over the raw rows present now, so a
    closing trade held back because its entry (or its position) had not landed yet becomes
    valid once it lands.

    Written so that a filter on position_id pushes down to raw.trades (every window is
    partitioned by position_id; duplicates are found with an indexed anti-join on trade_id,
    not a window over trade_id), so a consumer reading a few positions reads only their trades.
-#}

with

source as (

    select * from {{ source('raw', 'trades') }}

),

row_checked as (

    select
        source.*,
        -- Duplicates: the copy that landed first is kept, ties broken by the other columns;
        -- fully identical copies are told apart by their number in the group.
        row_number() over (
            partition by
                source.position_id, trade_id, action, quantity, price, fees,
                execution_timestamp, loaded_at
            order by trade_id
        ) > 1
        or exists (
            select 1
            from {{ source('raw', 'trades') }} as earlier
            where
                earlier.trade_id = source.trade_id
                and (
                    earlier.loaded_at, earlier.execution_timestamp, earlier.position_id,
                    earlier.action, earlier.quantity, earlier.price, earlier.fees
                ) < (
                    source.loaded_at, source.execution_timestamp, source.position_id,
                    source.action, source.quantity, source.price, source.fees
                )
        ) as is_duplicate,
        exists (
            select 1
            from {{ source('raw', 'positions') }} as positions
            where positions.position_id = source.position_id
        ) as position_is_known,
        valid_positions.position_id is not null as position_is_valid
    from source
    -- one join, not a lookup per trade; a filter on position_id still pushes down into it
    left join (
        select position_id
        from {{ ref('base_positions') }}
        where quarantine_reason is null
        group by position_id
    ) as valid_positions on valid_positions.position_id = source.position_id

),

row_classified as (

    select
        row_checked.*,
        case
            when is_duplicate then 'duplicate_trade_id'
            when action not in ('entry', 'exit', 'settlement') then 'unknown_action'
            when price < 0 or price > 1 then 'price_out_of_range'
            -- a binary contract settles at 0 or 1; any other price would invent P&L
            when action = 'settlement' and price not in (0, 1) then 'settlement_not_binary'
            when quantity <= 0 then 'non_positive_quantity'
            when fees < 0 then 'negative_fees'
            when execution_timestamp > loaded_at + interval '{{ var("future_tolerance") }}'
                then 'future_execution'
            when not position_is_known then 'unknown_position'
            when not position_is_valid then 'invalid_position'
        end as row_reason
    from row_checked

),

-- Running figures per position, over the trades that passed the row-level rules only (FILTER).
-- Those trades have distinct trade_ids, so their order is total.
sequenced as (

    select
        row_classified.*,
        count(*) filter (where row_reason is null and action <> 'entry') over (
            partition by position_id
            order by execution_timestamp, trade_id
            rows between unbounded preceding and 1 preceding
        ) as closings_before,
        coalesce(sum(quantity) filter (where row_reason is null and action <> 'entry') over (
            partition by position_id
            order by execution_timestamp, trade_id
            rows between unbounded preceding and current row
        ), 0) as closed_quantity_through,
        min(execution_timestamp) filter (where row_reason is null and action <> 'entry') over (
            partition by position_id
        ) as first_closing_timestamp
    from row_classified

),

-- The entries that count are those before the position's first closing trade (later entries
-- are themselves quarantined), so every closing trade has the same entered quantity.
opened as (

    select
        sequenced.*,
        count(*) filter (
            where row_reason is null and action = 'entry' and closings_before = 0
        ) over (partition by position_id) as entries,
        coalesce(sum(quantity) filter (
            where row_reason is null and action = 'entry' and closings_before = 0
        ) over (partition by position_id), 0) as entered_quantity
    from sequenced

),

classified as (

    select
        opened.*,
        coalesce(
            row_reason,
            case
                when action = 'entry' and closings_before > 0 then 'entry_after_closing'
                when action <> 'entry' and entries = 0 then 'closing_without_entry'
                when action <> 'entry' and closed_quantity_through > entered_quantity
                    then 'closing_more_than_open'
            end
        ) as quarantine_reason
    from opened

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
        loaded_at,
        quarantine_reason,
        case quarantine_reason
            when 'duplicate_trade_id' then format(
                'trade_id %s landed more than once; the copy that landed first is kept',
                trade_id
            )
            when 'unknown_action' then format(
                'action %L is not entry, exit or settlement', action
            )
            when 'price_out_of_range' then format('price %s outside [0, 1]', price)
            when 'settlement_not_binary' then format(
                'settlement at price %s: a binary contract settles at 0 or 1', price
            )
            when 'non_positive_quantity' then format('quantity %s is not positive', quantity)
            when 'negative_fees' then format('fees %s are negative', fees)
            when 'future_execution' then format(
                'executed at %s, more than %s after it landed at %s',
                execution_timestamp, '{{ var("future_tolerance") }}', loaded_at
            )
            when 'unknown_position' then format(
                'position %s is not in raw.positions', position_id
            )
            when 'invalid_position' then format(
                'position %s has no valid version: its versions are in the quarantine',
                position_id
            )
            when 'entry_after_closing' then format(
                'entry of position %s at %s comes after its first closing trade at %s',
                position_id, execution_timestamp, first_closing_timestamp
            )
            when 'closing_without_entry' then format(
                '%s of position %s has no entry before it', action, position_id
            )
            when 'closing_more_than_open' then format(
                '%s of position %s brings the closed quantity to %s, more than the %s entered',
                action, position_id, closed_quantity_through, entered_quantity
            )
        end as quarantine_detail,
        -- The raw row (built here, after any filter on the reason, not for every row).
        jsonb_build_object(
            'trade_id', trade_id,
            'position_id', position_id,
            'action', action,
            'quantity', quantity,
            'price', price,
            'fees', fees,
            'execution_timestamp', execution_timestamp,
            'loaded_at', loaded_at
        ) as record
    from classified

)

select * from final
