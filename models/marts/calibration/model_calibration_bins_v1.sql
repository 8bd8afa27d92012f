{#- Reliability-diagram bins, version 1. Defined by macro calibration_bins_v1
    (macros/calibration_models.sql), which the bench's on-demand answer applies to the
    staging views. -#}
{{ config(
    indexes=[
        {'columns': ['model_id', 'league', 'calibration_window', 'bin'], 'unique': True},
    ],
) }}
{{ calibration_bins_v1(ref('int_calibration_components')) }}
