"""The Dagster code location: it loads, and its jobs, partitions and schedules are as designed."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.dbt import dbt_project, prepare_manifest


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    prepare_manifest()
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    return defs


def test_every_dbt_model_is_an_asset_of_exactly_one_partitioning(defs):
    from orchestration.assets.dbt import dbt_daily, dbt_hourly, dbt_unpartitioned

    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "precog"
    }
    groups = [
        {key.path[-1] for key in assets.keys}
        for assets in (dbt_hourly, dbt_daily, dbt_unpartitioned)
    ]
    assert sum(len(group) for group in groups) == len(set().union(*groups))  # disjoint
    assert {"int_trade_pnl", "int_pnl_hourly", "stg_trades"} <= groups[0]
    assert {"int_pnl_daily", "int_pnl_all_time", "mv_ab_test_results"} <= groups[1]
    assert {"performance_tracking"} <= groups[2]
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
