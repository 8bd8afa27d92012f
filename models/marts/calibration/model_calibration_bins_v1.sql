{#- Reliability-diagram bins, version 1 (DESIGN.md, "Calibration and model evaluation"): one row
    per (model_id, league or 'ALL', calibration_window, bin) with at least one forecast (empty
    bins are absent), from intermediate.int_calibration_components.

    Bins are var calibration_bins uniform bins, right-closed like scikit-learn's
    calibration_curve: bin 0 = [0, 1/K], bin k = (k/K, (k+1)/K]. Wilson score interval at 95%
    (z = 1.959963984540054) of the observed frequency Y/n:
      (Y + z^2/2 -+ z sqrt(Y (n - Y) / n + z^2 / 4)) / (n + z^2). -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'league', 'calibration_window', 'bin'], 'unique': True},
    ],
) }}
{%- set bins = var('calibration_bins') | int -%}
{%- set scale = calibration_scale() -%}
{%- set z = '1.95996398454005423552' -%}

with

components as (

    select * from {{ ref('int_calibration_components') }}

),

models as (

    select model_id, model_name, model_version
    from {{ ref('stg_probability_models') }}

),

wilson as (

    select
        *,
        ({{ z }} * {{ z }} / 2 + sum_outcome) / (n_forecasts + {{ z }} * {{ z }}) as wilson_center,
        {{ z }} * sqrt(
            {{ exact_ratio('sum_outcome * (n_forecasts - sum_outcome)', 'n_forecasts') }}
            + {{ z }} * {{ z }} / 4
        ) / (n_forecasts + {{ z }} * {{ z }}) as wilson_half_width
    from components

),

final as (

    select
        wilson.model_id,
        models.model_name,
        models.model_version,
        wilson.league,
        wilson.calibration_window,
        wilson.calibration_bin as bin,
        round({{ exact_ratio('wilson.calibration_bin', bins) }}, {{ scale }}) as bin_lower,
        round({{ exact_ratio('wilson.calibration_bin + 1', bins) }}, {{ scale }}) as bin_upper,
        wilson.n_forecasts,
        wilson.sum_outcome::bigint as n_outcomes_yes,
        round(
            {{ exact_ratio('wilson.sum_predicted', 'wilson.n_forecasts') }}, {{ scale }}
        ) as mean_predicted,
        round(
            {{ exact_ratio('wilson.sum_outcome', 'wilson.n_forecasts') }}, {{ scale }}
        ) as observed_frequency,
        -- Exactly 0 with no YES outcome and 1 with no NO outcome (where the formula gives
        -- them up to the rounding of the square root).
        case when wilson.sum_outcome = 0 then 0 else
            wilson.wilson_center - wilson.wilson_half_width
        end::double precision as wilson_lower,
        case when wilson.sum_outcome = wilson.n_forecasts then 1 else
            wilson.wilson_center + wilson.wilson_half_width
        end::double precision as wilson_upper
    from wilson
    left join models on models.model_id = wilson.model_id

)

select * from final
