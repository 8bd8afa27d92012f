{#- The model-accuracy dashboard mart (DESIGN.md, "Marts"): per model version and league (and
    'ALL'), the all-time calibration summary beside the last 30 days, read from the latest
    version of marts.model_calibration_metrics. One row per (model_id, league) with at least one
    settled forecast. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'league'], 'unique': True},
        {'columns': ['league', 'brier_score']},
    ],
) }}
{%- set scale = calibration_scale() -%}

with

metrics as (

    select * from {{ ref('model_calibration_metrics') }}

),

models as (

    select model_id, status
    from {{ ref('stg_probability_models') }}

),

all_time as (

    select * from metrics
    where calibration_window = 'all_time'

),

last_30d as (

    select * from metrics
    where calibration_window = 'last_30d'

),

final as (

    select
        all_time.model_id,
        all_time.model_name,
        all_time.model_version,
        models.status as model_status,
        all_time.league,
        all_time.n_forecasts,
        all_time.base_rate,
        all_time.brier_score,
        case when all_time.uncertainty > 0 then
            round(1 - {{ exact_ratio('all_time.brier_score', 'all_time.uncertainty') }}, {{ scale }})
        end as brier_skill_score,
        all_time.log_loss,
        all_time.reliability,
        all_time.resolution,
        all_time.ece,
        all_time.mce,
        all_time.spiegelhalter_z,
        all_time.spiegelhalter_p,
        rank() over (partition by all_time.league order by all_time.brier_score)::integer
            as brier_rank,
        coalesce(last_30d.n_forecasts, 0) as last_30d_n_forecasts,
        last_30d.brier_score as last_30d_brier_score,
        last_30d.log_loss as last_30d_log_loss,
        last_30d.reliability as last_30d_reliability,
        last_30d.ece as last_30d_ece,
        all_time.window_end as data_through
    from all_time
    left join last_30d
        on last_30d.model_id = all_time.model_id and last_30d.league = all_time.league
    left join models on models.model_id = all_time.model_id

)

select * from final
