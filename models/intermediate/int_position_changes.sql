{#- The change log of the incremental models (macros/incremental.sql): each run appends the
    positions whose raw rows landed since the last run, stamped with the time of its capture
    (its transaction's start). It reads from the time before which the previous capture had
    seen every row (complete_before), so a long load that commits late is not missed;
    landed_condition says which rows count.

    A full refresh recaptures every position, but keeps when the log it replaces had last
    captured each (previous_capture): a position with nothing landed since that log's last
    capture keeps its own capture, and only the others are stamped with this one, as an
    increment would have. Models downstream and the live views then see as new only what is
    new. Stamped anew, the whole history would be pending for the live views until the hourly
    level is rebuilt, each read repricing every position (6 minutes at 10M). -#}
{{ config(
    materialized='incremental',
    meta={'partitioning': 'hourly'},
    indexes=[
        {'columns': ['captured_at']}, {'columns': ['complete_before']}, {'columns': ['loaded_at']},
    ],
    post_hook="{{ not_null_columns(['position_id', 'captured_at']) }}",
) }}

{%- set previous = previous_capture() %}

with

landed as (

    select position_id, loaded_at
    from {{ source('raw', 'trades') }}
    where {{ landed_condition('loaded_at') }}

    union all

    select position_id, loaded_at
    from {{ source('raw', 'positions') }}
    where {{ landed_condition('loaded_at') }}

    union all

    -- A late edge version can change the edge at entry of the positions on its market and model.
    select positions.position_id, edges.loaded_at
    from {{ source('raw', 'edges') }} as edges
    inner join {{ source('raw', 'positions') }} as positions
        on positions.market_id = edges.market_id and positions.model_id = edges.model_id
    where {{ landed_condition('edges.loaded_at') }}

    {%- if is_incremental() or previous is not none %}

    union all

    -- A market that lands after its positions makes them valid (base_positions, unknown_market):
    -- their trades join the P&L. Only a market's first versions: later quotes change nothing.
    select positions.position_id, new_markets.loaded_at
    from (
        select market_id, max(loaded_at) as loaded_at
        from {{ source('raw', 'markets') }}
        where {{ landed_condition('loaded_at', previous) }}
        group by market_id
    ) as new_markets
    inner join {{ source('raw', 'positions') }} as positions
        on positions.market_id = new_markets.market_id
    where not exists (
        select from {{ source('raw', 'markets') }} as earlier
        where earlier.market_id = new_markets.market_id
            and not ({{ landed_condition('earlier.loaded_at', previous) }})
    )

    union all

    -- Likewise a strategy or a model (unknown_strategy, unknown_model). Rare: they land once.
    select positions.position_id, strategies.loaded_at
    from {{ source('raw', 'strategies') }} as strategies
    inner join {{ source('raw', 'positions') }} as positions
        on positions.strategy_id = strategies.strategy_id
    where {{ landed_condition('strategies.loaded_at', previous) }}

    union all

    select positions.position_id, models.loaded_at
    from {{ source('raw', 'probability_models') }} as models
    inner join {{ source('raw', 'positions') }} as positions
        on positions.model_id = models.model_id
    where {{ landed_condition('models.loaded_at', previous) }}

    {%- endif %}

),

captured as (

    select position_id, max(loaded_at) as loaded_at
    from landed
    group by position_id

)

select
    captured.position_id,
    captured.loaded_at,
    -- The warehouse's clock, not dbt's: the log's order must not depend on the clock of
    -- whichever machine runs dbt (one that steps back would hide a capture behind the last).
    {%- if previous is none %}
    now() as captured_at,
    {{ complete_before() }} as complete_before
from captured
    {%- else %}
    coalesce(kept.captured_at, now()) as captured_at,
    coalesce(kept.complete_before, {{ complete_before() }}) as complete_before
from captured
-- Its last capture in the log replaced, if nothing of it landed since that log's last one.
left join (
    select distinct on (position_id) position_id, captured_at, complete_before
    from {{ this }}
    order by position_id, captured_at desc
) as kept
    on kept.position_id = captured.position_id
    and captured.loaded_at < {{ previous.complete_before }}
    {%- endif %}
