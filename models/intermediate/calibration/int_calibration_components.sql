{#- Additive components of the calibration metrics, per model, league, window and bin.
    Defined by macro calibration_components (macros/calibration_models.sql), which the
    bench's on-demand answer applies to the staging views. -#}
{{ calibration_components(ref('int_forecasts'), ref('int_settled_markets')) }}
