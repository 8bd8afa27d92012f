{#- Calibration metrics, version 1 (DESIGN.md, "Calibration and model evaluation"): one row per
    (model_id, league or 'ALL', calibration_window) with at least one forecast, computed from
    the exact per-bin sums of intermediate.int_calibration_components.

    With N forecasts, Y outcomes 1, and per bin k: n_k forecasts, S_k = sum p, Y_k = sum y,
      brier       = (sum p^2 - 2 sum p y + Y) / N
      reliability = sum_k (S_k - Y_k)^2 / n_k / N                    (= sum n_k (pbar_k - obar_k)^2 / N)
      resolution  = sum_k (Y_k N - n_k Y)^2 / (n_k N^2) / N          (= sum n_k (obar_k - ybar)^2 / N)
      uncertainty = Y (N - Y) / N^2
      residual    = brier - reliability + resolution - uncertainty
                  = (within-bin variance of p - 2 x within-bin covariance of p and y) / N
      ece = sum_k |S_k - Y_k| / N,  mce = max_k |S_k - Y_k| / n_k
      spiegelhalter_z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p)), p-value two-sided.
    Numeric metrics are rounded to 20 decimal places, and the residual is the difference of the
    rounded terms, so the identity holds digit for digit. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'league', 'calibration_window'], 'unique': True},
        {'columns': ['league', 'calibration_window']},
    ],
) }}
{%- set scale = calibration_scale() -%}

with

components as (

    select * from {{ ref('int_calibration_components') }}

),

models as (

    select model_id, model_name, model_version
    from {{ ref('stg_probability_models') }}

),

bins as (

    select
        components.*,
        sum(n_forecasts) over calibration_group as group_forecasts,
        sum(sum_outcome) over calibration_group as group_outcomes
    from components
    window calibration_group as (partition by model_id, league, calibration_window)

),

bin_terms as (

    select
        *,
        {{ exact_ratio(
            '(sum_predicted - sum_outcome) * (sum_predicted - sum_outcome)', 'n_forecasts'
        ) }} as reliability_term,
        {{ exact_ratio(
            '(sum_outcome * group_forecasts - n_forecasts * group_outcomes)'
            ~ ' * (sum_outcome * group_forecasts - n_forecasts * group_outcomes)',
            'n_forecasts * group_forecasts * group_forecasts'
        ) }} as resolution_term,
        {{ exact_ratio('abs(sum_predicted - sum_outcome)', 'n_forecasts') }} as calibration_gap
    from bins

),

calibration_groups as (

    select
        model_id,
        league,
        calibration_window,
        min(window_start) as window_start,
        min(window_end) as window_end,
        sum(n_forecasts)::bigint as n_forecasts,
        sum(sum_outcome) as outcomes,
        sum(sum_predicted_squared) - 2 * sum(sum_predicted_outcome) + sum(sum_outcome)
            as squared_error_sum,
        sum(reliability_term) as reliability_sum,
        sum(resolution_term) as resolution_sum,
        sum(abs(sum_predicted - sum_outcome)) as calibration_gap_sum,
        max(calibration_gap) as max_calibration_gap,
        sum(sum_log_loss) as log_loss_sum,
        sum(spiegelhalter_numerator) as spiegelhalter_numerator,
        sum(spiegelhalter_variance) as spiegelhalter_variance
    from bin_terms
    group by model_id, league, calibration_window

),

metrics as (

    select
        model_id,
        league,
        calibration_window,
        window_start,
        window_end,
        n_forecasts,
        round({{ exact_ratio('outcomes', 'n_forecasts') }}, {{ scale }}) as base_rate,
        round({{ exact_ratio('squared_error_sum', 'n_forecasts') }}, {{ scale }}) as brier_score,
        round({{ exact_ratio('reliability_sum', 'n_forecasts') }}, {{ scale }}) as reliability,
        round({{ exact_ratio('resolution_sum', 'n_forecasts') }}, {{ scale }}) as resolution,
        round(
            {{ exact_ratio('outcomes * (n_forecasts - outcomes)', 'n_forecasts * n_forecasts') }},
            {{ scale }}
        ) as uncertainty,
        ({{ exact_ratio('log_loss_sum', 'n_forecasts') }})::double precision as log_loss,
        round({{ exact_ratio('calibration_gap_sum', 'n_forecasts') }}, {{ scale }}) as ece,
        round(max_calibration_gap, {{ scale }}) as mce,
        -- Null when no forecast has variance (every p in {0, 0.5, 1}).
        case when spiegelhalter_variance > 0 then
            (spiegelhalter_numerator / sqrt(spiegelhalter_variance))::double precision
        end as spiegelhalter_z
    from calibration_groups

),

final as (

    select
        metrics.model_id,
        models.model_name,
        models.model_version,
        metrics.league,
        metrics.calibration_window,
        metrics.window_start,
        metrics.window_end,
        metrics.n_forecasts,
        metrics.base_rate,
        metrics.brier_score,
        metrics.reliability,
        metrics.resolution,
        metrics.uncertainty,
        metrics.brier_score - metrics.reliability + metrics.resolution - metrics.uncertainty
            as brier_residual,
        metrics.log_loss,
        metrics.ece,
        metrics.mce,
        metrics.spiegelhalter_z,
        {{ normal_two_sided_p_value('metrics.spiegelhalter_z') }} as spiegelhalter_p
    from metrics
    left join models on models.model_id = metrics.model_id

)

select * from final
