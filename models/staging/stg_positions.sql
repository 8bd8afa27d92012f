{#- The current version of each position: one row per business key (the quarantine keeps a
    single current version per key). -#}

select * from {{ ref('stg_position_versions') }}
where row_current_ind
