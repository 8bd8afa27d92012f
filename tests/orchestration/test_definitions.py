"""The Dagster code location: it loads, and its jobs, partitions and schedules are as designed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration import definitions
from orchestration.defs.checks.expectations import SUITES
from orchestration.defs.checks.manifest import asset_key, find_relation, load_manifest
from orchestration.defs.checks.run_failures import run_failure_report
from orchestration.defs.dbt.assets import dbt_models
from orchestration.defs.resources import WarehouseResource
from precog import PROJECT_ROOT
from precog.pipeline.dbt_runner import (
    MANIFEST_PATH,
    PARSED_FOLDERS,
    dbt_env,
    parse_key,
    prepare_manifest,
)
from precog.warehouse import database


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    prepare_manifest()
    loaded = definitions.defs()
    dg.Definitions.validate_loadable(loaded)
    return loaded


def test_every_dbt_model_is_an_asset_of_exactly_one_partitioning(defs):

    manifest = json.loads(MANIFEST_PATH.read_text())
    models = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "precog"
    }
    groups = [
        {key.path[-1] for key in assets.keys} for assets in map(dbt_models, ("hourly", "daily"))
    ]
    assert sum(len(group) for group in groups) == len(set().union(*groups))  # disjoint
    assert {"int_trade_pnl", "int_pnl_hourly", "stg_trades"} <= groups[0]
    assert {"int_pnl_daily", "int_pnl_all_time", "mv_ab_test_results"} <= groups[1]
    assert {"performance_tracking", "live_pnl_today"} <= groups[1]
    assert len(set().union(*groups)) == len(models)


def test_jobs_partitions_and_schedules(defs):
    hourly, daily = defs.resolve_job_def("hourly"), defs.resolve_job_def("daily")
    assert isinstance(hourly.partitions_def, dg.HourlyPartitionsDefinition)
    assert isinstance(daily.partitions_def, dg.DailyPartitionsDefinition)
    assert daily.partitions_def.timezone == "UTC"  # PRECOG_REPORTING_TIMEZONE unset in tests
    schedules = {schedule.job_name: schedule for schedule in defs.schedules}
    assert schedules["hourly"].cron_schedule == "5 * * * *"
    assert schedules["daily"].cron_schedule == "30 0 * * *"
    assert schedules["daily"].execution_timezone == daily.partitions_def.timezone
    # The A/B analysis runs after its dbt input and before the dashboard mart reading it.
    graph = defs.resolve_asset_graph()
    ab = dg.AssetKey(["marts", "ab_test_results"])
    assert dg.AssetKey(["intermediate", "int_ab_market_outcomes"]) in graph.get(ab).parent_keys
    assert any(key.path[-1] == "mv_ab_test_results" for key in graph.get(ab).child_keys)


def check_keys_of(job: dg.JobDefinition) -> set[tuple[str, str]]:
    return {
        (key.asset_key.to_user_string(), key.name)
        for key in job.asset_layer.asset_graph.asset_check_keys
    }


def test_checks_are_on_the_right_assets_and_jobs(defs):

    manifest = load_manifest()
    graph = defs.resolve_asset_graph()
    specs = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
    }
    # A Great Expectations suite per declared relation, on the relation's asset; a mart's blocks.
    suites = {
        (asset_key(manifest, find_relation(manifest, relation)).to_user_string(), relation)
        for relation in SUITES
    }
    assert {(key, name) for key, name in specs if name == "great_expectations"} == {
        (key, "great_expectations") for key, _ in suites
    }
    # Great Expectations validates the raw landing tables (a warning); the marts are dbt's.
    assert {key for key, _ in suites} == {"raw/trades", "raw/positions"}
    for key, _ in suites:
        assert not specs[(key, "great_expectations")].blocking

    # Freshness: the sources given one (raw's, the A/B results), and the hourly level.
    fresh = {key for key, name in specs if name == "freshness"}
    assert fresh == {
        *(
            f"raw/{table}"
            for table in ("markets", "positions", "trades", "edges", "model_predictions")
        ),
        "raw/ab_test_assignments",
        "marts/ab_test_results",
        "intermediate/int_pnl_hourly",
    }

    # dbt tests are checks too, blocking unless they only warn (the quarantine's counts).
    assert specs[("intermediate/int_trade_pnl", "unique_int_trade_pnl_trade_id")].blocking
    quarantine = [spec for (key, _), spec in specs.items() if key == "staging/quarantine"]
    assert any(not spec.blocking for spec in quarantine)
    # ... each saying in the UI what it checks.
    assert all(spec.description for spec in specs.values())
    position_pnl = ("intermediate/int_position_pnl", "unique_int_position_pnl_position_id")
    assert specs[position_pnl].description == "position_id is unique."
    windowed = specs[("staging/stg_trades", "unique_stg_trades_trade_id")]
    assert windowed.description.endswith(
        "On the rows not validated yet and the run's landing window (every row on a full refresh)."
    )
    unknown_action = specs[("staging/quarantine", "quarantine_trades_unknown_action")]
    assert unknown_action.description == (
        "No rows. On the rows where source_table = 'trades' and reason = 'unknown_action'."
        " Warns (does not block)."
    )

    hourly, daily = (
        check_keys_of(defs.resolve_job_def("hourly")),
        check_keys_of(defs.resolve_job_def("daily")),
    )
    assert {("raw/trades", "great_expectations"), ("raw/positions", "great_expectations")} <= hourly
    assert ("intermediate/int_pnl_hourly", "freshness") in hourly
    # A mart's dbt tests run in the job that builds it.
    assert any(key == "marts/mv_model_accuracy" for key, _ in daily)
    assert check_keys_of(defs.resolve_job_def("freshness_checks")) == {
        (key, "freshness") for key in fresh
    }


def test_the_freshness_sensor_runs_the_freshness_checks_unless_they_are_running(defs):
    from dagster._core.storage.dagster_run import DagsterRun

    sensor = defs.resolve_sensor_def("freshness_sensor")
    assert sensor.job_name == "freshness_checks"
    assert sensor.minimum_interval_seconds == 15 * 60
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED  # as the schedules
    with dg.DagsterInstance.ephemeral() as instance:
        requested = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert isinstance(requested, dg.RunRequest)
        instance.add_run(
            DagsterRun(
                job_name="freshness_checks", run_id="f" * 36, status=dg.DagsterRunStatus.STARTED
            )
        )
        assert isinstance(
            sensor(dg.build_sensor_context(instance=instance, definitions=defs)), dg.SkipReason
        )


def test_loading_the_definitions_does_not_import_great_expectations(defs):
    code = (
        "import sys; from orchestration.definitions import defs; defs();"
        " assert 'great_expectations' not in sys.modules, 'imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_importing_any_module_runs_nothing():
    """No import-time side effects: every module of both packages imports without starting a
    process (dbt parse, a server) or touching the environment."""
    code = """
import os, pkgutil, importlib, subprocess
import dagster, dagster_dbt, numpy, pandas, psycopg2, scipy.stats  # (their imports may run `file`)
def refuse(*args, **kwargs):
    raise AssertionError(f"a process started at import: {args[:1]}")
subprocess.Popen = refuse
before = dict(os.environ)
for package in ("precog", "orchestration"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(module.name)
assert dict(os.environ) == before, "the environment changed"
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_dg_checks_the_code_location(warehouse):
    """`dg check defs` from the project root, in the environment `precog db env` gives."""
    database.ensure_database(warehouse, warehouse.dagster_dbname)
    env = {**os.environ, **warehouse.libpq_env(), **warehouse.dagster_env()}
    dg_cli = Path(sys.executable).with_name("dg")
    result = subprocess.run(
        [str(dg_cli), "check", "defs"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_a_dbt_test_runs_in_the_step_that_builds_its_model(defs):
    """The daily job splits the dbt multi-asset around the A/B analysis (a Python asset between
    dbt models): every dbt test must still run in the step that builds the model it tests."""
    from dagster._core.definitions.dependency import NodeHandle

    job = defs.resolve_job_def("daily")
    steps = [
        job.asset_layer.get_assets_def_for_node(NodeHandle(name, None))
        for name in job.graph.node_dict
    ]
    dbt_steps = [step for step in steps if step.op.name.startswith("dbt_")]
    assert len(dbt_steps) == 2  # split around the A/B asset, and no more
    for step in dbt_steps:
        assert {check.asset_key for check in step.check_keys} <= set(step.keys), step.op.name


def test_a_failed_run_is_recorded_with_the_step_that_failed_first(warehouse, cursor):

    @dg.op
    def breaks():
        raise ValueError("the step broke\nand said more")

    @dg.job
    def doomed():
        breaks()

    with dg.DagsterInstance.ephemeral() as instance:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        failure = next(
            event for event in result.all_events if event.event_type_value == "PIPELINE_FAILURE"
        )
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_report",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure,
            resources={"warehouse": WarehouseResource()},
        ).for_run_failure()
        run_failure_report(context)
    cursor.execute("select job_name, step_key, error from precog_meta.run_failures")
    assert cursor.fetchall() == [("doomed", "breaks", "ValueError: the step broke")]


def test_the_project_is_parsed_again_only_when_what_dbt_parses_changed(defs, tmp_path):
    environment = {"PGDATABASE": "desk", "PRECOG_REPORTING_TIMEZONE": "UTC"}
    assert parse_key(environment) == parse_key(dict(environment))
    for name, value in (("PGDATABASE", "other"), ("PRECOG_REPORTING_TIMEZONE", "Asia/Tokyo")):
        assert parse_key({**environment, name: value}) != parse_key(environment), name
    # a copy of the project parses to the same key until one of its models changes
    shutil.copy(PROJECT_ROOT / "dbt_project.yml", tmp_path)
    for folder in PARSED_FOLDERS:
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    assert parse_key(environment, tmp_path) == parse_key(environment)
    with (tmp_path / "models" / "staging" / "stg_trades.sql").open("a") as model:
        model.write("\n")
    assert parse_key(environment, tmp_path) != parse_key(environment)
    # A manifest parsed with this key is kept; one with another key is parsed again. (In a
    # folder of its own: the suite's other processes parse target/ for their own databases.)
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    shutil.copy(MANIFEST_PATH, manifest)
    manifest.with_name("manifest.key").write_text(parse_key(dbt_env()))
    assert not prepare_manifest(manifest)
    manifest.with_name("manifest.key").write_text("a key of other files")
    assert prepare_manifest(manifest)
    assert manifest.with_name("manifest.key").read_text() == parse_key(dbt_env())
    assert json.loads(manifest.read_text())["metadata"]["project_name"] == "precog"
