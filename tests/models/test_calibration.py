"""Calibration metrics and edge capture (DESIGN.md, "Calibration and model evaluation") on a
real warehouse and real dbt builds.

The marts are checked against oracles computed here from the raw rows, independently of the
project's SQL: scikit-learn (brier_score_loss, log_loss, calibration_curve) and small NumPy /
SciPy computations (Murphy decomposition, ECE, MCE, Spiegelhalter, Wilson), to 1e-9; the
log loss also against a 40-digit Decimal computation, which clipping at 1e-15 needs (float64
cannot hold 1 - 1e-15 to better than 1e-3 relative in 1 - p).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from math import floor
from pathlib import Path

import jinja2
import numpy as np
import pytest
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from precog import simulator
from precog.pipeline.dbt_runner import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_env, run_dbt
from tests.helpers import at_scale, published, published_scales, unrounded_sql

BINS = 10
TOLERANCE = 1e-9
WINDOW = timedelta(hours=720)
WIDTH = Decimal("0.02")  # var edge_capture_bin_width
CALIBRATION_MARTS = "+model_calibration_metrics +model_calibration_bins +mv_model_accuracy"
NOISY, OVERCONFIDENT, CALIBRATED = 1, 2, 3  # model_id of elo 1.0, 2.0, 2.1 (simulator.MODELS)


def build(target, tmp_path: Path, select: str, *extra: str) -> str:
    # cautious: leave out tests that also read models outside the selection
    result = run_dbt(
        ["build", "--select", *select.split(), "--indirect-selection", "cautious", *extra],
        target,
        tmp_path / "dbt-target",
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def fetch(cursor, sql: str, params=None) -> list[dict]:
    cursor.execute(sql, params)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# --- oracles -------------------------------------------------------------------------------


def forecasts_from_raw(cursor) -> tuple[list[dict], datetime]:
    """The last prediction strictly before close of each settled market, per model, from raw
    (ties: the higher prediction_id), leaving out predictions outside [0, 1]; and the latest
    close among settled markets."""
    markets = {
        row["market_id"]: row
        for row in fetch(
            cursor,
            "select market_id, league, close_ts, settlement_value from raw.markets"
            " where row_current_ind and status = 'settled' and settlement_value in (0, 1)",
        )
    }
    last: dict[tuple, dict] = {}
    for prediction in fetch(
        cursor,
        "select prediction_id, model_id, market_id, predicted_prob, prediction_timestamp"
        " from raw.model_predictions order by prediction_timestamp, prediction_id",
    ):
        market = markets.get(prediction["market_id"])
        if (
            market is None
            or not 0 <= prediction["predicted_prob"] <= 1
            or prediction["prediction_timestamp"] >= market["close_ts"]
        ):
            continue
        last[prediction["model_id"], prediction["market_id"]] = {
            "model_id": prediction["model_id"],
            "league": market["league"],
            "close_ts": market["close_ts"],
            "p": prediction["predicted_prob"],
            "y": int(market["settlement_value"]),
        }
    return list(last.values()), max(market["close_ts"] for market in markets.values())


def groups(forecasts: list[dict], window_end: datetime) -> dict[tuple, list[dict]]:
    """(model_id, league or ALL, window) -> forecasts, windows as DESIGN.md defines them."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for f in forecasts:
        windows = ["all_time"] + (["last_30d"] if f["close_ts"] > window_end - WINDOW else [])
        for window in windows:
            grouped[f["model_id"], f["league"], window].append(f)
            grouped[f["model_id"], "ALL", window].append(f)
    return grouped


def decimal_log_loss(forecasts: list[dict]) -> float:
    with localcontext() as context:
        context.prec = 40
        low, high = Decimal("1e-15"), 1 - Decimal("1e-15")
        total = Decimal(0)
        for f in forecasts:
            p = min(max(Decimal(f["p"]), low), high)
            total -= (p if f["y"] == 1 else 1 - p).ln()
        return float(total / len(forecasts))


def oracle(forecasts: list[dict]) -> dict:
    p = np.array([float(f["p"]) for f in forecasts])
    y = np.array([f["y"] for f in forecasts], dtype=float)
    n = len(p)
    # scikit-learn's binning (calibration_curve, strategy='uniform')
    bin_ids = np.searchsorted(np.linspace(0, 1, BINS + 1)[1:-1], p)
    counts = np.bincount(bin_ids, minlength=BINS)
    filled = counts > 0
    mean_p = np.bincount(bin_ids, p, BINS)[filled] / counts[filled]
    frequency = np.bincount(bin_ids, y, BINS)[filled] / counts[filled]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=BINS, strategy="uniform")
    np.testing.assert_allclose(prob_true, frequency, rtol=0, atol=1e-12)
    np.testing.assert_allclose(prob_pred, mean_p, rtol=0, atol=1e-12)
    base_rate = y.mean()
    within_p = p - (np.bincount(bin_ids, p, BINS) / np.maximum(counts, 1))[bin_ids]
    within_y = y - (np.bincount(bin_ids, y, BINS) / np.maximum(counts, 1))[bin_ids]
    variance = np.sum((1 - 2 * p) ** 2 * p * (1 - p))
    z = np.sum((y - p) * (1 - 2 * p)) / np.sqrt(variance) if variance > 0 else None
    return {
        "n_forecasts": n,
        "base_rate": base_rate,
        "brier_score": brier_score_loss(y, p, labels=[0, 1]),
        "reliability": np.sum(counts[filled] * (mean_p - frequency) ** 2) / n,
        "resolution": np.sum(counts[filled] * (frequency - base_rate) ** 2) / n,
        "uncertainty": base_rate * (1 - base_rate),
        "brier_residual": (np.sum(within_p**2) - 2 * np.sum(within_p * within_y)) / n,
        "log_loss": decimal_log_loss(forecasts),
        # Where no p is clipped: float64 cannot hold 1 - 1e-15 well enough for the 1 - p.
        "sklearn_log_loss": None
        if np.any((p < 1e-15) | (p > 1 - 1e-15))
        else log_loss(y, p, labels=[0, 1]),
        "ece": np.sum(counts[filled] * np.abs(mean_p - frequency)) / n,
        "mce": np.max(np.abs(mean_p - frequency)),
        "spiegelhalter_z": z,
        "spiegelhalter_p": None if z is None else 2 * norm.sf(abs(z)),
        "bins": {
            int(k): (int(counts[k]), m, f, int(np.sum(y[bin_ids == k])))
            for k, m, f in zip(np.nonzero(filled)[0], mean_p, frequency, strict=True)
        },
    }


def wilson(successes: int, n: int) -> tuple[float, float]:
    z = norm.ppf(0.975)
    center = (successes + z * z / 2) / (n + z * z)
    half = z * np.sqrt(successes * (n - successes) / n + z * z / 4) / (n + z * z)
    return center - half, center + half


def assert_close(actual, expected, what) -> None:
    if expected is None:
        assert actual is None, what
    else:
        assert actual is not None and abs(float(actual) - expected) <= TOLERANCE, (
            what,
            actual,
            expected,
        )


def exact_rows(cursor, warehouse, tmp_path: Path, mart: str, macro: str, key: tuple) -> dict:
    """The exact rows of a calibration mart (the macro that is its body, compiled without the
    contract), by key, once the mart is found to publish each rounded at its contract's scales."""
    body = f"{{{{ {macro}(ref('int_calibration_components')) }}}}"
    sql = unrounded_sql(warehouse, body, tmp_path / "unrounded")
    exact = {tuple(row[k] for k in key): row for row in fetch(cursor, sql)}
    mart_rows = fetch(cursor, f"select * from {mart}")
    published_rows = {tuple(row[k] for k in key): row for row in mart_rows}
    scales = published_scales(cursor, mart)
    assert published_rows.keys() == exact.keys()
    for k, row in published_rows.items():
        assert row == published(exact[k], scales), k
    return exact


def assert_calibration_marts_match_oracles(cursor, warehouse, tmp_path) -> dict[tuple, dict]:
    """Every row of the calibration marts, exact, against the oracles on the forecasts from raw
    (and the marts publish those rows at their scales)."""
    expected = {key: oracle(rows) for key, rows in groups(*forecasts_from_raw(cursor)).items()}
    window = ("model_id", "league", "calibration_window")
    metrics = exact_rows(
        cursor,
        warehouse,
        tmp_path,
        "marts.model_calibration_metrics",
        "calibration_metrics_v1",
        window,
    )
    assert metrics.keys() == expected.keys()
    for key, row in metrics.items():
        truth = expected[key]
        # The Murphy identity, digit for digit.
        assert row["brier_score"] == (
            row["reliability"] - row["resolution"] + row["uncertainty"] + row["brier_residual"]
        ), key
        assert row["n_forecasts"] == truth["n_forecasts"], key
        for column in (
            "base_rate",
            "brier_score",
            "reliability",
            "resolution",
            "uncertainty",
            "brier_residual",
            "log_loss",
            "ece",
            "mce",
            "spiegelhalter_z",
        ):
            assert_close(row[column], truth[column], (key, column))
        if truth["sklearn_log_loss"] is not None:
            assert_close(row["log_loss"], truth["sklearn_log_loss"], (key, "sklearn log_loss"))
        if truth["spiegelhalter_p"] is None:
            assert row["spiegelhalter_p"] is None, key
        else:
            assert row["spiegelhalter_p"] == pytest.approx(truth["spiegelhalter_p"], rel=1e-9)

    bins = defaultdict(dict)
    key = (*window, "bin")
    mart, macro = "marts.model_calibration_bins", "calibration_bins_v1"
    for row in exact_rows(cursor, warehouse, tmp_path, mart, macro, key).values():
        bins[row["model_id"], row["league"], row["calibration_window"]][row["bin"]] = row
    assert bins.keys() == expected.keys()
    for key, rows in bins.items():
        assert rows.keys() == expected[key]["bins"].keys(), key  # empty bins absent
        for number, row in rows.items():
            n, mean_predicted, frequency, yes = expected[key]["bins"][number]
            assert (row["n_forecasts"], row["n_outcomes_yes"]) == (n, yes), (key, number)
            assert row["bin_lower"] == Decimal(number) / BINS
            assert row["bin_upper"] == Decimal(number + 1) / BINS
            assert_close(row["mean_predicted"], mean_predicted, (key, number))
            assert_close(row["observed_frequency"], frequency, (key, number))
            low, high = wilson(yes, n)
            assert_close(row["wilson_lower"], low, (key, number, "wilson"))
            assert_close(row["wilson_upper"], high, (key, number, "wilson"))
    return metrics


def assert_accuracy_mart_reads_the_metrics(cursor, metrics: dict[tuple, dict]) -> None:
    accuracy = {
        (row["model_id"], row["league"]): row
        for row in fetch(cursor, "select * from marts.mv_model_accuracy")
    }
    assert accuracy.keys() == {(m, league) for m, league, w in metrics if w == "all_time"}
    scales = published_scales(cursor, "marts.mv_model_accuracy")
    for (model, league), row in accuracy.items():
        all_time, recent = (
            metrics[model, league, "all_time"],
            metrics.get((model, league, "last_30d")),
        )
        for column in ("n_forecasts", "brier_score", "log_loss", "ece", "spiegelhalter_p"):
            exact = all_time[column]
            assert row[column] == (at_scale(exact, scales[column]) if column in scales else exact)
        assert row["last_30d_n_forecasts"] == (recent["n_forecasts"] if recent else 0)
        assert row["last_30d_brier_score"] == (
            at_scale(recent["brier_score"], scales["brier_score"]) if recent else None
        )
        if all_time["uncertainty"] > 0:
            # From the published brier_score and uncertainty (the mart reads the metrics mart):
            # exact for them, a few millionths from the skill of the unrounded terms.
            skill = 1 - row["brier_score"] / at_scale(
                all_time["uncertainty"], scales["brier_score"]
            )
            assert row["brier_skill_score"] == at_scale(skill, scales["brier_skill_score"])
            exact_skill = 1 - all_time["brier_score"] / all_time["uncertainty"]
            assert abs(row["brier_skill_score"] - exact_skill) < Decimal("0.0001")
        else:
            assert row["brier_skill_score"] is None
        rivals = [r for (m, lg), r in accuracy.items() if lg == league]
        assert row["brier_rank"] == 1 + sum(r["brier_score"] < row["brier_score"] for r in rivals)


# --- the simulated desk --------------------------------------------------------------------


def test_simulated_desk_matches_the_oracles_and_the_models_come_out_as_designed(
    warehouse, cursor, tmp_path
):
    simulator.simulate_history(trades=30000, seed=5, end=datetime(2026, 3, 1, tzinfo=UTC))
    build(
        warehouse,
        tmp_path,
        CALIBRATION_MARTS + " +model_edge_capture +model_edge_capture_bins",
    )
    metrics = assert_calibration_marts_match_oracles(cursor, warehouse, tmp_path)
    assert metrics[CALIBRATED, "ALL", "all_time"]["n_forecasts"] > 1500
    assert_accuracy_mart_reads_the_metrics(cursor, metrics)

    # The simulator's models (precog/simulator/): elo 2.1 calibrated, elo 2.0 the same
    # forecasts pushed to the extremes (logit x 2.5), elo 1.0 noisy and blind to home advantage.
    overall = {m: metrics[m, "ALL", "all_time"] for m in (NOISY, OVERCONFIDENT, CALIBRATED)}
    calibrated, overconfident, noisy = overall[CALIBRATED], overall[OVERCONFIDENT], overall[NOISY]
    # The calibrated model is the most reliable and the best scored, and passes Spiegelhalter.
    for column in ("reliability", "ece", "brier_score", "log_loss"):
        assert calibrated[column] == min(m[column] for m in overall.values()), column
    assert calibrated["spiegelhalter_p"] > 0.05
    # The over-confident model: worse reliability than the calibrated one by an order of
    # magnitude, over-confidence's signature (Spiegelhalter Z > 0; observed frequencies nearer
    # 0.5 than the forecasts at both ends), and the calibrated model's resolution, since its
    # forecasts are a monotone transform of the calibrated ones.
    assert overconfident["reliability"] > 10 * calibrated["reliability"]
    assert overconfident["spiegelhalter_z"] > 5 and overconfident["spiegelhalter_p"] < 1e-6
    extreme = fetch(
        cursor,
        "select mean_predicted, observed_frequency from marts.model_calibration_bins"
        " where model_id = %s and league = 'ALL' and calibration_window = 'all_time'"
        " and (bin <= 1 or bin >= 8)",
        (OVERCONFIDENT,),
    )
    assert len(extreme) == 4
    for row in extreme:
        assert abs(row["observed_frequency"] - Decimal("0.5")) < abs(
            row["mean_predicted"] - Decimal("0.5")
        )
    assert (
        abs(overconfident["resolution"] - calibrated["resolution"])
        < Decimal("0.1") * (calibrated["resolution"])
    )
    # As designed (issue 5): the over-confident model has the worst reliability term; the noisy
    # one, whose noise and home lean miscalibrate it too, the worst resolution.
    assert overconfident["reliability"] == max(m["reliability"] for m in overall.values())
    assert noisy["reliability"] > calibrated["reliability"]
    assert noisy["resolution"] == min(m["resolution"] for m in overall.values())

    assert_edge_capture_matches_a_direct_computation(cursor)
    capture = {
        row["model_id"]: row["realized_edge"] / row["predicted_edge"]
        for row in fetch(
            cursor,
            "select model_id, sum(realized_pnl) as realized_edge,"
            " sum(predicted_edge * edge_contracts) as predicted_edge"
            " from marts.model_edge_capture group by model_id",
        )
    }
    # Only the calibrated model's edges are real: it captures most of them, the others lose.
    assert capture[CALIBRATED] > Decimal("0.5")
    assert capture[NOISY] < 0 and capture[OVERCONFIDENT] < 0

    cursor.execute(
        "select indexname, indexdef from pg_indexes where schemaname = 'marts'"
        " and tablename = 'mv_model_accuracy'"
    )
    definitions = [definition for _, definition in cursor.fetchall()]
    assert any("UNIQUE" in d and "(model_id, league)" in d for d in definitions), definitions


def assert_edge_capture_matches_a_direct_computation(cursor) -> None:
    # The closing line: the last quoted version starting before the current close_ts, from raw.
    closing_mid = {}
    for row in fetch(
        cursor,
        "select versions.market_id, versions.yes_bid, versions.yes_ask"
        " from raw.markets as versions join raw.markets as current"
        "   on current.market_id = versions.market_id and current.row_current_ind"
        " where versions.row_start_ts < current.close_ts and versions.yes_bid is not null"
        "   and versions.yes_ask is not null"
        " order by versions.row_start_ts, versions.market_key",
    ):
        closing_mid[row["market_id"]] = (row["yes_bid"] + row["yes_ask"]) / 2
    sums: dict[tuple, dict] = defaultdict(lambda: defaultdict(Decimal))
    for trade in fetch(
        cursor,
        "select * from intermediate.int_trade_pnl"
        " where action <> 'entry' and edge_at_entry is not null",
    ):
        mid = closing_mid.get(trade["market_id"])
        side_close = None if mid is None else (mid if trade["side"] == "yes" else 1 - mid)
        q = trade["quantity"]
        for key in (
            (trade["model_id"], trade["strategy_id"]),
            (trade["model_id"], trade["strategy_id"], floor(trade["edge_at_entry"] / WIDTH)),
        ):
            sums[key]["contracts"] += q
            sums[key]["edge"] += trade["edge_at_entry"] * q
            sums[key]["pnl"] += trade["realized_pnl"]
            if side_close is not None:
                sums[key]["clv"] += (side_close - trade["average_entry_price"]) * q
                sums[key]["clv_contracts"] += q
    marts = {
        **{
            (row["model_id"], row["strategy_id"]): row
            for row in fetch(cursor, "select * from marts.model_edge_capture")
        },
        **{
            (row["model_id"], row["strategy_id"], row["edge_bin"]): row
            for row in fetch(cursor, "select * from marts.model_edge_capture_bins")
        },
    }
    assert marts.keys() == sums.keys()
    scales = published_scales(cursor, "marts.model_edge_capture")
    for key, row in marts.items():
        expected = sums[key]
        assert row["edge_contracts"] == at_scale(expected["contracts"], scales["edge_contracts"])
        assert row["realized_pnl"] == at_scale(expected["pnl"], scales["realized_pnl"]), key
        for column, value in (
            ("predicted_edge", expected["edge"] / expected["contracts"]),
            ("realized_edge", expected["pnl"] / expected["contracts"]),
            ("capture_ratio", expected["pnl"] / expected["edge"]),
            ("closing_line_value", expected["clv"] / expected["clv_contracts"]),
        ):
            # The mart divides exact sums (to 40 places) and publishes at its scale.
            assert row[column] == at_scale(value, scales[column]), (key, column)
        if len(key) == 3:
            assert row["edge_bin_lower"] == key[2] * WIDTH


# --- hand-made edge cases ------------------------------------------------------------------

END = datetime(2026, 2, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
# market_id: (league, close_ts, status, settlement_value)
EDGE_MARKETS = {
    1: ("NBA", END, "settled", 1),
    2: ("NBA", END - WINDOW, "settled", 0),  # on the window's open boundary: all_time only
    3: ("NBA", END - 24 * HOUR, "settled", 1),
    4: ("NHL", END - 48 * HOUR, "settled", 0),  # the league's only market
    5: ("NBA", END + 24 * HOUR, "open", None),  # not settled: no forecast, not in window_end
    6: ("NBA", END - 72 * HOUR, "settled", 1),
    7: ("MLB", END - 2400 * HOUR, "settled", 0),
    8: ("MLB", END - 2424 * HOUR, "settled", 0),
}
# (prediction_id, model_id, market_id, predicted_prob, hours before the market's close)
EDGE_PREDICTIONS = [
    (10, 1, 1, "1", 2),  # exactly 1, right
    (11, 1, 1, "0.5", 0),  # at the close: not a forecast
    (12, 1, 2, "0", 1),  # exactly 0, right
    (13, 1, 3, "0", 1),  # exactly 0, wrong: log loss clipped at -ln(1e-15)
    (14, 1, 4, "0.2", 5),  # superseded
    (15, 1, 4, "0.95", 1),  # alone in its bin, in its league
    (16, 1, 6, "0.35", 3),
    (17, 1, 6, "1.2", 1),  # not a probability: skipped, counted by a warning
    (18, 1, 7, "1", 1),  # MLB: only 0 and 1, so no Spiegelhalter statistic
    (19, 1, 8, "0", 1),
    (20, 1, 5, "0.6", 1),  # unsettled market
    (30, 2, 5, "0.6", 1),  # model 2 only forecasts an unsettled market ...
    (31, 2, 1, "0.7", -1),  # ... and after a close: no settled forecast
]


def insert_edge_cases(cursor) -> None:
    cursor.executemany(
        "insert into raw.probability_models (model_id, model_name, model_version, config, status)"
        " values (%s, 'edge_case', %s, '{}', 'active')",
        [(1, "1.0"), (2, "2.0"), (3, "3.0")],  # model 3 never predicts
    )
    cursor.executemany(
        "insert into raw.markets (market_key, market_id, ticker, league, market_type,"
        " event_start_ts, close_ts, yes_bid, yes_ask, no_bid, no_ask, status, settlement_value,"
        " row_start_ts) values (%s, %s, %s, %s, 'moneyline', %s, %s, 0.45, 0.47, 0.53, 0.55,"
        " %s, %s, %s)",
        [
            (m * 10 + 1, m, f"EDGE-{m}", league, close - 3 * HOUR, close, status, value,
             close - 100 * HOUR)
            for m, (league, close, status, value) in EDGE_MARKETS.items()
        ],
    )  # fmt: skip
    cursor.executemany(
        "insert into raw.model_predictions (prediction_id, model_id, market_id, predicted_prob,"
        " prediction_timestamp) values (%s, %s, %s, %s, %s)",
        [
            (pid, model, market, Decimal(p), EDGE_MARKETS[market][1] - hours * HOUR)
            for pid, model, market, p, hours in EDGE_PREDICTIONS
        ],
    )


def test_edge_cases(warehouse, cursor, tmp_path):
    insert_edge_cases(cursor)
    output = build(warehouse, tmp_path, CALIBRATION_MARTS)
    # The prediction of 1.2 is counted by the warning-level test of stg_model_predictions.
    assert "WARN 1 expression_is_true_stg_model_predictions_predicted_prob_between_0_and_1" in (
        output
    )

    metrics = assert_calibration_marts_match_oracles(cursor, warehouse, tmp_path)
    assert_accuracy_mart_reads_the_metrics(cursor, metrics)

    # A model version without a settled forecast has no row anywhere (models 2 and 3).
    for relation in ("model_calibration_metrics", "model_calibration_bins", "mv_model_accuracy"):
        cursor.execute(f"select distinct model_id from marts.{relation}")
        assert cursor.fetchall() == [(1,)], relation
    assert set(metrics) == {
        (1, league, window)
        for league, window in [
            ("ALL", "all_time"), ("NBA", "all_time"), ("NHL", "all_time"), ("MLB", "all_time"),
            ("ALL", "last_30d"), ("NBA", "last_30d"), ("NHL", "last_30d"),
        ]
    }  # fmt: skip

    # A league with a single market, one forecast alone in its bin: every term exact.
    nhl = metrics[1, "NHL", "all_time"]
    assert (nhl["n_forecasts"], nhl["base_rate"], nhl["uncertainty"], nhl["resolution"]) == (
        1, 0, 0, 0,
    )  # fmt: skip
    assert nhl["brier_score"] == nhl["reliability"] == Decimal("0.9025")
    assert nhl["brier_residual"] == 0 and nhl["ece"] == nhl["mce"] == Decimal("0.95")
    assert nhl["spiegelhalter_z"] == pytest.approx(0.855 / np.sqrt(0.81 * 0.95 * 0.05), rel=1e-14)
    (nhl_bin,) = fetch(
        cursor,
        "select * from marts.model_calibration_bins"
        " where league = 'NHL' and calibration_window = 'all_time'",
    )
    assert (nhl_bin["bin"], nhl_bin["n_forecasts"], nhl_bin["observed_frequency"]) == (9, 1, 0)
    z = norm.ppf(0.975)
    assert nhl_bin["wilson_lower"] == 0
    assert nhl_bin["wilson_upper"] == pytest.approx(z * z / (1 + z * z), rel=1e-14)

    # Predictions of exactly 0 and 1: bins 0 and K - 1 (right-closed), clipped log loss.
    bins = {
        row["bin"]: row["n_forecasts"]
        for row in fetch(
            cursor,
            "select bin, n_forecasts from marts.model_calibration_bins"
            " where league = 'ALL' and calibration_window = 'all_time'",
        )
    }
    assert bins == {0: 3, 3: 1, 9: 3}
    mlb = metrics[1, "MLB", "all_time"]
    assert mlb["brier_score"] == Decimal("0.5")
    assert mlb["log_loss"] == pytest.approx((34.538776394910684 + 1e-15) / 2, rel=1e-15)
    # Every p in {0, 1}: no variance, no Spiegelhalter statistic.
    assert mlb["spiegelhalter_z"] is None and mlb["spiegelhalter_p"] is None

    # The last 30 days: closing in (window_end - 720 h, window_end]; window_end is the latest
    # close among settled markets (the open market 5 closes later and does not count).
    nba_recent = metrics[1, "NBA", "last_30d"]
    assert nba_recent["n_forecasts"] == 3  # market 2, exactly 720 h before the end, is out
    assert nba_recent["window_end"] == END and nba_recent["window_start"] == END - WINDOW
    (mlb_accuracy,) = fetch(cursor, "select * from marts.mv_model_accuracy where league = 'MLB'")
    assert mlb_accuracy["last_30d_n_forecasts"] == 0
    assert mlb_accuracy["last_30d_brier_score"] is None


def test_components_are_the_exact_sums_of_their_forecasts(warehouse, cursor, tmp_path):
    """int_calibration_components counts equal forecasts together and takes one logarithm per
    distinct (p, y): its sums equal those of every forecast taken one by one, to the last digit
    and scale, also where one probability is written at several scales (0.5, 0.50, 0.5000), and
    where the scale sets the logarithm's digits (18 and 19 decimals)."""
    insert_edge_cases(cursor)
    long = "0.123456789012345678"
    cursor.executemany(
        "insert into raw.model_predictions (prediction_id, model_id, market_id, predicted_prob,"
        " prediction_timestamp) values (%s, %s, %s, %s, %s)",
        [
            (40 + market, model, market, Decimal(p), EDGE_MARKETS[market][1] - HOUR)
            for model, market, p in [
                (2, 1, "0.5"),
                (2, 2, "0.50"),
                (2, 3, "0.5000"),
                (2, 4, "0.5"),
                (2, 6, "0.35"),
                (3, 7, long),
                (3, 8, long + "0"),
            ]
        ],
    )
    build(warehouse, tmp_path, "+int_calibration_components")
    columns = (
        "model_id, league, calibration_window, calibration_bin, window_start, window_end,"
        " n_forecasts, sum_predicted, sum_outcome, sum_predicted_squared, sum_predicted_outcome,"
        " sum_log_loss, spiegelhalter_numerator, spiegelhalter_variance"
    )
    one_by_one = f"""
        with forecasts as (
            select model_id, league, close_ts, predicted_prob as p, outcome::numeric as y,
                -ln(case when outcome = 1 then greatest(least(predicted_prob, 1 - 1e-15), 1e-15)
                    else 1 - greatest(least(predicted_prob, 1 - 1e-15), 1e-15) end) as log_loss
            from intermediate.int_forecasts
        ),
        windows as (
            select distinct calibration_window, window_start, window_end
            from intermediate.int_calibration_components
        )
        select model_id, coalesce(league, 'ALL') as league, calibration_window,
            greatest(ceil(p * {BINS}) - 1, 0)::integer as calibration_bin,
            window_start, window_end, count(*) as n_forecasts, sum(p) as sum_predicted,
            sum(y) as sum_outcome, sum(p * p) as sum_predicted_squared,
            sum(p * y) as sum_predicted_outcome, sum(log_loss) as sum_log_loss,
            sum((y - p) * (1 - 2 * p)) as spiegelhalter_numerator,
            sum((1 - 2 * p) * (1 - 2 * p) * p * (1 - p)) as spiegelhalter_variance
        from forecasts
        inner join windows on window_start is null or close_ts > window_start
        group by model_id, calibration_window, calibration_bin, window_start, window_end,
            grouping sets ((league), ())
    """

    def as_text(sql: str) -> list[tuple[str, ...]]:
        cursor.execute(sql)
        return sorted(tuple(map(str, row)) for row in cursor.fetchall())

    components = as_text(f"select {columns} from intermediate.int_calibration_components")
    assert components == as_text(f"select {columns} from ({one_by_one}) as one_by_one")
    scales = {row[7] for row in components if row[0] == "2" and row[2] == "all_time"}
    assert len(components) > 10 and "2.0000" in scales, scales  # 0.5 + 0.50 + 0.5000 + 0.5


# --- the normal p-value --------------------------------------------------------------------


def test_normal_p_value_matches_scipy(cursor):
    """The erfc approximation of macros/calibration.sql (rendered by Jinja as dbt does) against
    scipy.stats.norm.sf, over |z| up to 40 and both signs, including the interval edges."""
    template = (Path(DBT_PROJECT_DIR) / "macros" / "calibration.sql").read_text()
    sql = (
        jinja2.Environment()
        .from_string(
            template + "select z, {{ normal_two_sided_p_value('z') }} as p"
            " from unnest(%(zs)s::float8[]) as z"
        )
        .render()
    )
    edges = np.array([0.46875, 4, 26.543]) * np.sqrt(2)
    zs = np.concatenate(
        [
            np.linspace(0, 40, 4001),
            -np.linspace(0, 8, 81),
            np.geomspace(1e-12, 1, 50),
            edges,
            np.nextafter(edges, 0),
            np.nextafter(edges, 100),
        ]
    )
    cursor.execute(sql, {"zs": [float(z) for z in zs]})
    rows = cursor.fetchall()
    assert len(rows) == len(zs)
    for z, p in rows:
        expected = 2 * norm.sf(abs(z))
        assert abs(p - expected) <= 1e-15, z
        if expected > 1e-300:
            assert p == pytest.approx(expected, rel=1e-13), z
    cursor.execute(
        jinja2.Environment()
        .from_string(template + "select {{ normal_two_sided_p_value('null::float8') }}, "
                     "{{ normal_two_sided_p_value('1e300::float8') }}")
        .render()
    )  # fmt: skip
    assert cursor.fetchone() == (None, 0.0)


# --- model versions ------------------------------------------------------------------------

V2_COLUMN = """
      - v: 2
        config:
          alias: model_calibration_metrics
        columns:
          - include: all
          - name: n_outcomes_yes
            data_type: bigint
            description: Forecasts whose market settled YES (new in v2).
"""


def test_a_second_version_builds_beside_the_first(warehouse, cursor, tmp_path):
    """The documented way to change a definition (models/marts/calibration/
    _calibration__docs.md): on a copy of the project, v2 of model_calibration_metrics adds a
    column and becomes the latest version; one build serves both, v2 under the unsuffixed name
    and v1 under model_calibration_metrics_v1, and mv_model_accuracy follows the latest."""
    project = tmp_path / "project"
    for part in ("dbt_project.yml", "models", "macros", "tests/dbt", "seeds", "analyses"):
        source = Path(DBT_PROJECT_DIR) / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        elif source.exists():
            (project / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, project / part)
    marts = project / "models" / "marts" / "calibration"
    # The model's file and the macro holding its body, each copied under v2; the copy changed.
    v1_model = (marts / "model_calibration_metrics_v1.sql").read_text()
    (marts / "model_calibration_metrics_v2.sql").write_text(
        v1_model.replace("calibration_metrics_v1(", "calibration_metrics_v2(")
    )
    macros = (project / "macros" / "calibration_models.sql").read_text()
    start = macros.index("{% macro calibration_metrics_v1(")
    v1 = macros[start : macros.index("{%- endmacro %}", start) + len("{%- endmacro %}")]
    v2 = (
        v1.replace("calibration_metrics_v1(", "calibration_metrics_v2(")
        .replace(
            "            metrics.n_forecasts,\n",
            "            metrics.n_forecasts,\n"
            "            metrics.outcomes::bigint as n_outcomes_yes,\n",
        )
        .replace(
            "            n_forecasts,\n            round(",
            "            n_forecasts,\n            outcomes,\n            round(",
        )
    )
    assert v2.count("n_outcomes_yes") == 1 and v2.count("            outcomes,\n") == 1
    (project / "macros" / "calibration_metrics_v2.sql").write_text(v2 + "\n")
    properties = (marts / "_calibration__models.yml").read_text()
    v1_entry = (
        "    versions:\n      - v: 1\n        config:\n          alias: model_calibration_metrics\n"
    )
    assert properties.count(v1_entry) == 1
    properties = properties.replace(
        v1_entry,
        "    versions:\n      - v: 1\n        deprecation_date: 2099-01-01\n" + V2_COLUMN,
    ).replace(
        "    access: public\n    latest_version: 1\n    config:\n      contract:\n"
        "        enforced: true\n    data_tests:\n      - unique_combination_of_columns:\n"
        "          arguments:\n            columns: [model_id, league, calibration_window]\n",
        "    access: public\n    latest_version: 2\n    config:\n      contract:\n"
        "        enforced: true\n    data_tests:\n      - unique_combination_of_columns:\n"
        "          arguments:\n            columns: [model_id, league, calibration_window]\n",
    )  # fmt: skip
    assert properties.count("latest_version: 2") == 1
    (marts / "_calibration__models.yml").write_text(properties)

    insert_edge_cases(cursor)
    result = subprocess.run(
        [DBT_EXECUTABLE, "build", "--select", "+model_calibration_metrics", "+mv_model_accuracy",
         "--indirect-selection", "cautious", "--project-dir", str(project),
         "--target-path", str(tmp_path / "dbt-target")],
        cwd=project, env=dbt_env(warehouse), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]

    def columns(relation: str) -> list[str]:
        cursor.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'marts' and table_name = %s order by ordinal_position",
            (relation,),
        )
        return [name for (name,) in cursor.fetchall()]

    assert "n_outcomes_yes" in columns("model_calibration_metrics")
    assert "n_outcomes_yes" not in columns("model_calibration_metrics_v1")
    order = "order by model_id, league, calibration_window"
    latest = fetch(cursor, f"select * from marts.model_calibration_metrics {order}")
    first = fetch(cursor, f"select * from marts.model_calibration_metrics_v1 {order}")
    assert len(first) == len(latest) == 7
    for old, new in zip(first, latest, strict=True):
        assert {k: v for k, v in new.items() if k != "n_outcomes_yes"} == old
        assert new["n_outcomes_yes"] == round(new["base_rate"] * new["n_forecasts"])
    cursor.execute("select count(*) from marts.mv_model_accuracy")
    assert cursor.fetchone()[0] == 4
