{#- Dashboard: a model version's reliability diagram, all leagues, all time (var model_id,
    default 1), with the summary beside it. API endpoint: GET /models/{model_id}/calibration. -#}
select
    bins.bin,
    bins.bin_lower,
    bins.bin_upper,
    bins.n_forecasts,
    bins.mean_predicted,
    bins.observed_frequency,
    bins.wilson_lower,
    bins.wilson_upper,
    accuracy.brier_score,
    accuracy.ece
from {{ ref('model_calibration_bins') }} as bins
inner join {{ ref('mv_model_accuracy') }} as accuracy
    on accuracy.model_id = bins.model_id and accuracy.league = bins.league
where bins.model_id = {{ var('model_id', 1) }}
    and bins.league = 'ALL'
    and bins.calibration_window = 'all_time'
order by bins.bin
