{#- The calibration models' bodies, as macros of their inputs (DESIGN.md, "Calibration and
    model evaluation"): each model applies its macro to its refs; the bench's on-demand answers
    (analyses/on_demand/) apply the same macros to the staging views, so a metric is defined
    once. The formulas they use are in macros/calibration.sql. -#}


{#- The outcomes of the calibration (DESIGN.md, "Calibration and model evaluation"): one row
    per settled market, from its current version: status settled with a settlement value of 0
    or 1 (1 = YES won). -#}
{% macro settled_markets(markets) -%}
    with

    markets as (

        select * from {{ markets }}

    ),

    final as (

        select
            market_id,
            league,
            market_type,
            close_ts,
            settlement_value::integer as outcome
        from markets
        where status = 'settled' and settlement_value in (0, 1)

    )

    select * from final
{%- endmacro %}


{#- The forecasts of the calibration (DESIGN.md, "Calibration and model evaluation"): per model
    version and settled market, the model's last prediction before the market's close_ts, with
    the outcome. Every forecast counts, traded or not: trades are selected for their edge, so
    scoring only traded markets would be biased.

    "Before" is strict (prediction_timestamp < close_ts); of two predictions with the same
    timestamp the higher prediction_id wins. A prediction outside [0, 1] is not a probability
    and is not a forecast (a warning-level test on stg_model_predictions counts them). -#}
{% macro last_forecasts_before_close(settled_markets, predictions) -%}
    with

    settled_markets as (

        select * from {{ settled_markets }}

    ),

    predictions as (

        select
            prediction_id,
            model_id,
            market_id,
            predicted_prob,
            prediction_timestamp
        from {{ predictions }}
        where predicted_prob between 0 and 1

    ),

    last_before_close as (

        select distinct on (predictions.model_id, predictions.market_id)
            predictions.model_id,
            predictions.market_id,
            settled_markets.league,
            settled_markets.market_type,
            settled_markets.close_ts,
            predictions.prediction_id,
            predictions.prediction_timestamp,
            predictions.predicted_prob,
            settled_markets.outcome
        from predictions
        inner join settled_markets
            on
                predictions.market_id = settled_markets.market_id
                and predictions.prediction_timestamp < settled_markets.close_ts
        order by
            predictions.model_id,
            predictions.market_id,
            predictions.prediction_timestamp desc,
            predictions.prediction_id desc

    )

    select * from last_before_close
{%- endmacro %}


{#- Additive components of the calibration metrics, one row per (model_id, league,
    calibration_window, calibration_bin) with at least one forecast. league 'ALL' is all leagues
    together; calibration_window 'all_time' holds every forecast, 'last_30d' those of markets
    closing in (window_end - 720 hours, window_end], window_end being the latest close_ts among
    settled markets. Bins: var calibration_bins uniform bins, right-closed (macros/calibration.sql).

    Every column is an exact numeric sum (log loss: of numeric logarithms), so each metric of
    the marts is computed from these sums with one division at the end: nothing is averaged.
    Read by model_calibration_metrics and model_calibration_bins. -#}
{% macro calibration_components(forecasts, settled_markets) -%}
{%- set bins = var('calibration_bins') | int -%}
    with

    window_bounds as (

        select max(close_ts) as window_end
        from {{ settled_markets }}

    ),

    windows as (

        select
            windows.calibration_window,
            windows.window_start,
            window_bounds.window_end
        from window_bounds
        cross join lateral (
            values
                ('all_time', null::timestamptz),
                ('last_30d', window_bounds.window_end - interval '720 hours')
        ) as windows (calibration_window, window_start)

    ),

    forecasts as (

        select
            forecasts.model_id,
            forecasts.league,
            windows.calibration_window,
            windows.window_start,
            windows.window_end,
            {{ calibration_bin('forecasts.predicted_prob', bins) }} as calibration_bin,
            forecasts.predicted_prob as p,
            forecasts.outcome::numeric as y
        from {{ forecasts }} as forecasts
        inner join windows
            on windows.window_start is null or forecasts.close_ts > windows.window_start

    ),

    -- Forecasts of the same probability and outcome counted together: a numeric logarithm
    -- (most of this model's time) is then taken once per distinct (p, y), and n times a value
    -- is exactly the sum of its n copies, so every sum below is the same to the last digit.
    -- The scale is part of the key: it is the scale of the sums (2.0 and 2.0000 differ as text),
    -- and past 17 decimals that of the logarithm's digits.
    same_forecasts as (

        select
            model_id, league, calibration_window, window_start, window_end, calibration_bin,
            p, scale(p) as p_scale, y,
            count(*) as n
        from forecasts
        group by
            model_id, league, calibration_window, window_start, window_end, calibration_bin,
            p, scale(p), y

    ),

    log_losses as (

        select p, p_scale, y, {{ clipped_log_loss('p', 'y') }} as log_loss
        from (select distinct p, p_scale, y from same_forecasts) as distinct_forecasts

    ),

    components as (

        select
            same_forecasts.model_id,
            case when grouping(same_forecasts.league) = 1 then 'ALL' else same_forecasts.league end
                as league,
            same_forecasts.calibration_window,
            same_forecasts.calibration_bin,
            same_forecasts.window_start,
            same_forecasts.window_end,
            sum(n)::bigint as n_forecasts,
            sum(n * p) as sum_predicted,
            sum(n * y) as sum_outcome,
            sum(n * p * p) as sum_predicted_squared,
            sum(n * p * y) as sum_predicted_outcome,
            sum(n * log_losses.log_loss) as sum_log_loss,
            sum(n * (y - p) * (1 - 2 * p)) as spiegelhalter_numerator,
            sum(n * (1 - 2 * p) * (1 - 2 * p) * p * (1 - p)) as spiegelhalter_variance
        from same_forecasts
        inner join log_losses using (p, p_scale, y)
        group by
            same_forecasts.model_id,
            same_forecasts.calibration_window,
            same_forecasts.calibration_bin,
            same_forecasts.window_start,
            same_forecasts.window_end,
            grouping sets ((same_forecasts.league), ())

    )

    select * from components
{%- endmacro %}


{#- Reliability-diagram bins, version 1 (DESIGN.md, "Calibration and model evaluation"): one row
    per (model_id, league or 'ALL', calibration_window, bin) with at least one forecast (empty
    bins are absent), from intermediate.int_calibration_components.

    Bins are var calibration_bins uniform bins, right-closed like scikit-learn's
    calibration_curve: bin 0 = [0, 1/K], bin k = (k/K, (k+1)/K]. Wilson score interval at 95%
    (z = 1.959963984540054) of the observed frequency Y/n:
      (Y + z^2/2 -+ z sqrt(Y (n - Y) / n + z^2 / 4)) / (n + z^2). -#}
{% macro calibration_bins_v1(components) -%}
{%- set bins = var('calibration_bins') | int -%}
{%- set scale = calibration_scale() -%}
{%- set z = '1.95996398454005423552' -%}
    with

    components as (

        select * from {{ components }}

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
{%- endmacro %}


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
{% macro calibration_metrics_v1(components) -%}
{%- set scale = calibration_scale() -%}
    with

    components as (

        select * from {{ components }}

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
{%- endmacro %}
