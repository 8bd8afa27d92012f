{#- On demand (precog bench): analyses/calibration_curve.sql computed at query time, nothing
    materialized: the calibration models' own macros (macros/calibration_models.sql) applied to
    the staging views, for the panel's model only. -#}
with

on_demand_settled_markets as (

    {{ settled_markets(ref('stg_markets')) }}

),

model_predictions as (

    select * from {{ ref('stg_model_predictions') }}
    where model_id = {{ panel_parameter('model_id', 1, 'bigint') }}

),

on_demand_forecasts as (

    {{ last_forecasts_before_close('on_demand_settled_markets', 'model_predictions') }}

),

on_demand_components as (

    {{ calibration_components('on_demand_forecasts', 'on_demand_settled_markets') }}

),

bins as (

    {{ published(
        contract_columns('model_calibration_bins'), calibration_bins_v1('on_demand_components')
    ) }}

),

all_time_accuracy as (

    select * from ({{ published(
        contract_columns('model_calibration_metrics'), calibration_metrics_v1('on_demand_components')
    ) }}) as metrics
    where calibration_window = 'all_time'

)

{{ calibration_curve_panel('bins', 'all_time_accuracy') }}
