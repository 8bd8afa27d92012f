{#- Calibration metrics, version 1. Defined by macro calibration_metrics_v1
    (macros/calibration_models.sql), which the bench's on-demand answer applies to the
    staging views. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'league', 'calibration_window'], 'unique': True},
        {'columns': ['league', 'calibration_window']},
    ],
) }}
{{ calibration_metrics_v1(ref('int_calibration_components')) }}
