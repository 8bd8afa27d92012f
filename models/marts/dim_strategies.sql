{#- The strategy versions, so a BI tool can put names on the strategy_id of every mart (the
    facts carry ids only: a name can change, an id does not). One row per strategy version. -#}
{{ config(indexes=[{'columns': ['strategy_id'], 'unique': True}]) }}

select
    strategy_id,
    strategy_name,
    strategy_version,
    status,
    model_name as traded_model_name,
    min_edge,
    max_position_contracts,
    exit_rule
from {{ ref('stg_strategies') }}
