{#- The current version of each market: one row per business key (the quarantine keeps a
    single current version per key). -#}

select * from {{ ref('stg_market_versions') }}
where row_current_ind
