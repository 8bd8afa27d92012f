{#- The closing line of each market for closing-line value: the YES mid price
    (yes_bid + yes_ask) / 2 of the last market version that took effect before the market's
    close_ts (from its current version) with both quotes. One row per market that has one.
    The versions are read once: the current one's close_ts is a window over them (stg_markets
    is the current versions), not a second read of every version (3 s at 10M trades). -#}

with

versions as (

    select
        market_id,
        valid_from,
        market_key,
        yes_bid,
        yes_ask,
        max(close_ts) filter (where row_current_ind) over (partition by market_id) as close_ts
    from {{ ref('stg_market_versions') }}

),

closing_quotes as (

    select distinct on (market_id)
        market_id,
        close_ts,
        valid_from as closing_quote_at,
        (yes_bid + yes_ask) / 2 as closing_yes_mid
    from versions
    where yes_bid is not null and yes_ask is not null and valid_from < close_ts
    order by market_id, valid_from desc, market_key desc

)

select * from closing_quotes
