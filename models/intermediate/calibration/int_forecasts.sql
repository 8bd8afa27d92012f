{#- The forecasts of the calibration (DESIGN.md, "Calibration and model evaluation"): per model
    version and settled market, the model's last prediction before the market's close_ts, with
    the outcome. Every forecast counts, traded or not: trades are selected for their edge, so
    scoring only traded markets would be biased.

    "Before" is strict (prediction_timestamp < close_ts); of two predictions with the same
    timestamp the higher prediction_id wins. A prediction outside [0, 1] is not a probability
    and is not a forecast (a warning-level test on stg_model_predictions counts them). -#}

with

settled_markets as (

    select * from {{ ref('int_settled_markets') }}

),

predictions as (

    select
        prediction_id,
        model_id,
        market_id,
        predicted_prob,
        prediction_timestamp
    from {{ ref('stg_model_predictions') }}
    where predicted_prob between 0 and 1

),

last_before_close as (

    select distinct on (predictions.model_id, predictions.market_id)
        predictions.model_id,
        predictions.market_id,
        settled_markets.league,
        settled_markets.market_type,
        settled_markets.close_ts,
        predictions.prediction_id,
        predictions.prediction_timestamp,
        predictions.predicted_prob,
        settled_markets.outcome
    from predictions
    inner join settled_markets
        on
            predictions.market_id = settled_markets.market_id
            and predictions.prediction_timestamp < settled_markets.close_ts
    order by
        predictions.model_id,
        predictions.market_id,
        predictions.prediction_timestamp desc,
        predictions.prediction_id desc

)

select * from last_before_close
