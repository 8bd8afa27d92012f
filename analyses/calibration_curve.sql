{#- Dashboard: a model version's reliability diagram with Wilson intervals, all time (parameters
    model_id, default 1, and league, default ALL), with the summary beside it. API endpoint:
    GET /api/models/{model_id}/calibration?league=... -#}
select
    bins.model_id,
    bins.league,
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
where bins.model_id = {{ panel_parameter('model_id', 1, 'bigint') }}
    and bins.league = {{ panel_parameter('league', 'ALL', 'text') }}
    and bins.calibration_window = 'all_time'
order by bins.bin
