{#- The probability model versions, so a BI tool can put names on the model_id of every mart.
    One row per model version. -#}
{{ config(indexes=[{'columns': ['model_id'], 'unique': True}]) }}

select
    model_id,
    model_name,
    model_version,
    status,
    family
from {{ ref('stg_probability_models') }}
