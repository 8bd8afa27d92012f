{#- The forecasts of the calibration: each model's last prediction before a settled market's
    close. Defined by macro last_forecasts_before_close (macros/calibration_models.sql),
    which the bench's on-demand answer applies to the staging views. -#}
{{ last_forecasts_before_close(ref('int_settled_markets'), ref('stg_model_predictions')) }}
