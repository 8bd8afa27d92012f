{#- The current version of each edge: one row per business key (the quarantine keeps a
    single current version per key). -#}

select * from {{ ref('stg_edge_versions') }}
where row_current_ind
