{#- Dashboard: a model version's reliability diagram with Wilson intervals, all time (parameters
    model_id, default 1, and league, default ALL), with the summary beside it. API endpoint:
    GET /api/models/{model_id}/calibration?league=... -#}
{{ calibration_curve_panel(ref('model_calibration_bins'), ref('mv_model_accuracy')) }}
