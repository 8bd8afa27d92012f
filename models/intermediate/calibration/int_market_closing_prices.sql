{#- The closing line of each market for closing-line value: the YES mid price
    (yes_bid + yes_ask) / 2 of the last market version that took effect before the market's
    close_ts (from its current version) with both quotes. One row per market that has one. -#}

with

markets as (

    select market_id, close_ts
    from {{ ref('stg_markets') }}

),

quoted_versions as (

    select
        market_id,
        valid_from,
        market_key,
        yes_bid,
        yes_ask
    from {{ ref('stg_market_versions') }}
    where yes_bid is not null and yes_ask is not null

),

closing_quotes as (

    select distinct on (markets.market_id)
        markets.market_id,
        markets.close_ts,
        quoted_versions.valid_from as closing_quote_at,
        (quoted_versions.yes_bid + quoted_versions.yes_ask) / 2 as closing_yes_mid
    from markets
    inner join quoted_versions
        on
            quoted_versions.market_id = markets.market_id
            and quoted_versions.valid_from < markets.close_ts
    order by markets.market_id, quoted_versions.valid_from desc, quoted_versions.market_key desc

)

select * from closing_quotes
