"""The README's main job, end to end through the `precog` command line: simulate a desk, add
rows that break the contract, run the pipeline through the Dagster definitions."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

from orchestration.definitions import defs
from precog import PROJECT_ROOT
from precog.bench import jobs
from precog.pipeline.dbt_runner import run_dbt
from precog.pipeline.in_process import dagster_instance, repository_label
from tests.helpers import precog


def test_simulate_bad_rows_and_run(warehouse, cursor, tmp_path):
    precog(warehouse, "simulate", "--trades", "3000", "--seed", "3", "--end", "2026-02-01")
    printed = precog(warehouse, "simulate", "--bad-rows", "27").stdout
    counts = {
        kind: int(count)
        for kind, count in (line.split() for line in printed.splitlines())
        if kind != "total"
    }
    assert len(counts) == 9 and sum(counts.values()) == 27

    # The run as `precog bench` times it (precog/bench/jobs.py): the command in a process of its
    # own, then each Dagster job it ran from the instance's records.
    started = datetime.now(UTC)
    first = jobs.precog_run(warehouse)
    assert first.ran and [job.name for job in first.jobs] == ["hourly", "daily"]
    for job in first.jobs:
        assert 0 < max(seconds for _, seconds in job.steps) <= job.seconds < first.seconds
        assert any(step.startswith(f"dbt_{job.name}") for step, _ in job.steps), job.steps
    assert first.models_seconds(["intermediate/int_trade_pnl", "marts/mv_daily_pnl"]) > 0
    assert first.job("hourly").models.keys().isdisjoint(first.job("daily").models)
    # It recorded where it began: the next run tests what landed since (macros/test_windows.sql).
    cursor.execute(
        "select validation.complete_before = run.complete_before"
        " from precog_meta.last_validation as validation, precog_meta.last_complete_run as run"
    )
    assert cursor.fetchall() == [(True,)]
    # A dbt step that succeeded leaves no target folder of its own behind (6 MB an hour);
    # dagster-dbt names them <step>-<run id's first 7 characters>-<random>.
    with dagster_instance(warehouse) as instance:
        runs = {run.run_id[:7] for run in instance.get_runs()}
    folders = [path.name for path in (PROJECT_ROOT / "target").glob("dbt_*-*-*")]
    assert runs and not [name for name in folders if name.split("-")[-2] in runs]

    # Its runs are filed under their jobs in the UI (the filter of a job's Runs tab and of the
    # Overview timeline), as the runs the UI launches.
    with dagster_instance(warehouse) as instance:
        for job in ("hourly", "daily"):
            filed = dg.RunsFilter(job_name=job, tags={REPOSITORY_LABEL_TAG: repository_label()})
            assert len(instance.get_runs(filed)) == 1, job
    assert repository_label() == "__repository__@precog_analytics"
    # Every partition since the desk's first day shows as done ("100% filled"): the runs of
    # `precog run` cover the windows since the previous run's.
    definitions = defs()
    with dagster_instance(warehouse) as instance:
        for key in definitions.resolve_all_asset_keys():
            partitions = definitions.resolve_assets_def(key).partitions_def
            if partitions is not None:
                # those ended when the run started: the suite's clock passes the hour meanwhile
                missing = set(partitions.get_partition_keys(current_time=started))
                missing -= instance.get_materialized_partitions(key)
                assert not missing, (key, sorted(missing)[:3])

    # Every bad row (they landed together, last) is quarantined with the reason of its kind,
    # and none reached staging.
    bad_rows_landed = "(select max(loaded_at) from raw.trades)"
    cursor.execute(
        "select reason, count(*) from staging.quarantine"
        f" where loaded_at = {bad_rows_landed} group by reason"
    )
    assert dict(cursor.fetchall()) == counts
    cursor.execute(f"select count(*) from staging.stg_trades where loaded_at = {bad_rows_landed}")
    assert cursor.fetchone()[0] == counts["closing_more_than_open"]  # the valid entry before it
    cursor.execute("select count(distinct aggregation_level) from marts.performance_tracking")
    assert cursor.fetchone()[0] == 8
    # The calibration and edge-capture marts are filled (tests/models/test_calibration.py checks
    # their numbers), for the simulator's three model versions.
    for relation in (
        "model_calibration_metrics",
        "model_calibration_bins",
        "model_edge_capture",
        "model_edge_capture_bins",
        "mv_model_accuracy",
    ):
        cursor.execute(f"select count(distinct model_id) from marts.{relation}")
        assert cursor.fetchone()[0] == 3, relation

    # The A/B analysis wrote both experiments, each at once (one computed_at), and the dbt mart
    # downstream of it serves those very rows (Dagster ran it after the Python asset).
    cursor.execute(
        "select experiment_name, count(*), min(computed_at) = max(computed_at)"
        " from marts.ab_test_results group by 1 order by 1"
    )
    assert cursor.fetchall() == [
        ("steady_edge_aa", 10, True),
        ("value_hunter_model_upgrade", 10, True),
    ]
    cursor.execute(
        "select count(*) from marts.mv_ab_test_results"
        " join marts.ab_test_results using (experiment_name, metric, test, computed_at)"
    )
    assert cursor.fetchone()[0] == 20
    assert not jobs.precog_run(warehouse).ran  # nothing new: no Dagster run

    # The dbt unit tests (the SQL of the rollups, quarantine and calibration on fixed rows):
    # a run leaves them out, CI runs them here, on the warehouse the run built.
    unit = run_dbt(["test", "--select", "test_type:unit"], warehouse, tmp_path)
    assert unit.returncode == 0, unit.stdout[-3000:]
    done = unit.stdout.strip().splitlines()[-1]
    assert "ERROR=0" in done and "TOTAL=0" not in done, done


def test_an_empty_desk_runs_green(warehouse, cursor):
    """Day one of a real desk: nothing has landed. The run succeeds, builds every mart empty, and
    ends with its summary (no suite fails on an empty table)."""
    printed = precog(warehouse, "run").stdout
    assert "precog run: done." in printed and "performance_tracking 0" in printed
    cursor.execute("select count(*) from marts.mv_daily_pnl")
    assert cursor.fetchone()[0] == 0
    assert "nothing new" in precog(warehouse, "run").stdout
