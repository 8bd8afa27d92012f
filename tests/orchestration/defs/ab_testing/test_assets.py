"""The A/B analysis as an asset (orchestration/defs/ab_testing/assets.py) on a simulated desk:
the dbt input model, the asset, then the mart BI reads."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.ab_testing.assets import ab_test_results
from orchestration.defs.resources import WarehouseResource
from precog import simulator
from precog.pipeline.dbt_runner import run_dbt

PRIMARY = [("win_rate", "delta_z"), ("pnl_per_trade", "delta_z"), ("pnl_per_market", "welch_t")]


def test_the_planted_difference_is_detected_and_the_aa_is_not(
    warehouse, cursor, tmp_path, monkeypatch
):
    """80k trades (the simulator's author measured Welch t ~ 3 on the planted difference at
    this size): the dbt input model, then the asset, then mv_ab_test_results."""
    for name, value in warehouse.libpq_env().items():  # dbt's processes reach the test's database
        monkeypatch.setenv(name, value)
    simulator.simulate_history(trades=80_000, seed=3, end=datetime(2026, 2, 1, tzinfo=UTC))
    target_path = tmp_path / "dbt-target"
    # `run`, then only this model's tests (staging's relationship tests take minutes at 80k).
    for command in (
        ["run", "--select", "+int_ab_market_outcomes", "stg_ab_experiments"],
        ["test", "--select", "int_ab_market_outcomes"],
    ):
        built = run_dbt(command, warehouse, target_path)
        assert built.returncode == 0, built.stdout[-3000:]
    result = dg.materialize([ab_test_results()], resources={"warehouse": WarehouseResource()})
    verdicts = result.asset_materializations_for_node("marts__ab_test_results")[0].metadata
    assert "value_hunter_model_upgrade: treatment better on pnl_per_market" in (
        verdicts["verdicts"].value
    )
    assert "steady_edge_aa: no significant difference" in verdicts["verdicts"].value
    built = run_dbt(["build", "--select", "mv_ab_test_results"], warehouse, target_path)
    assert built.returncode == 0, built.stdout[-3000:]

    cursor.execute(
        "select experiment_name, metric, test, difference, p_value, significant"
        " from marts.mv_ab_test_results"
    )
    rows = {(e, m, t): rest for e, m, t, *rest in cursor.fetchall()}
    assert len(rows) == 20  # two experiments, ten rows each
    planted = rows[("value_hunter_model_upgrade", "pnl_per_market", "welch_t")]
    assert planted[0] > 0 and planted[2] is True
    assert rows[("value_hunter_model_upgrade", "pnl_per_market", "permutation")][1] < 0.05
    for metric, test in PRIMARY:
        assert rows[("steady_edge_aa", metric, test)][2] is False
    for experiment in ("value_hunter_model_upgrade", "steady_edge_aa"):
        assert rows[(experiment, "assignment", "srm_chi2")][2] is False
