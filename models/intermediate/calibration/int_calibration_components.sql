{#- Additive components of the calibration metrics, one row per (model_id, league,
    calibration_window, calibration_bin) with at least one forecast. league 'ALL' is all leagues
    together; calibration_window 'all_time' holds every forecast, 'last_30d' those of markets
    closing in (window_end - 720 hours, window_end], window_end being the latest close_ts among
    settled markets. Bins: var calibration_bins uniform bins, right-closed (macros/calibration.sql).

    Every column is an exact numeric sum (log loss: of numeric logarithms), so each metric of
    the marts is computed from these sums with one division at the end: nothing is averaged.
    Read by model_calibration_metrics and model_calibration_bins. -#}
{%- set bins = var('calibration_bins') | int -%}

with

window_bounds as (

    select max(close_ts) as window_end
    from {{ ref('int_settled_markets') }}

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
        forecasts.outcome::numeric as y,
        {{ clipped_log_loss('forecasts.predicted_prob', 'forecasts.outcome') }} as log_loss
    from {{ ref('int_forecasts') }} as forecasts
    inner join windows
        on windows.window_start is null or forecasts.close_ts > windows.window_start

),

components as (

    select
        model_id,
        case when grouping(league) = 1 then 'ALL' else league end as league,
        calibration_window,
        calibration_bin,
        window_start,
        window_end,
        count(*) as n_forecasts,
        sum(p) as sum_predicted,
        sum(y) as sum_outcome,
        sum(p * p) as sum_predicted_squared,
        sum(p * y) as sum_predicted_outcome,
        sum(log_loss) as sum_log_loss,
        sum((y - p) * (1 - 2 * p)) as spiegelhalter_numerator,
        sum((1 - 2 * p) * (1 - 2 * p) * p * (1 - p)) as spiegelhalter_variance
    from forecasts
    group by
        model_id, calibration_window, calibration_bin, window_start, window_end,
        grouping sets ((league), ())

)

select * from components
