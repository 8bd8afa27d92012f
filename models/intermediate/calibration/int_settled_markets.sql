{#- The outcomes of the calibration, one row per settled market. Defined by macro
    settled_markets (macros/calibration_models.sql), which the bench's on-demand answer
    applies to the staging views. -#}
{{ settled_markets(ref('stg_markets')) }}
