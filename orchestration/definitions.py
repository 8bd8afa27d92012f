"""The Dagster code location: everything the operator sees in the UI."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ab_testing import ab_test_results
from orchestration.assets.dbt import dbt_daily, dbt_hourly, dbt_unpartitioned
from orchestration.checks import all_checks, freshness_job_and_sensor
from orchestration.dbt import dbt_resource
from orchestration.partitions import daily_partitions, hourly_partitions
from orchestration.resources import WarehouseResource

assets = [dbt_hourly, dbt_daily, dbt_unpartitioned, ab_test_results]
gx_checks, freshness_checks = all_checks()
# A job selecting an asset runs the checks on it after it (the dbt tests, the suites of the
# marts, the hourly level's freshness). The suites of raw sources, which no job materializes,
# run with each hourly run, on what has landed.
built = {key for definition in assets for key in definition.keys}
source_gx_checks = [
    check for check in gx_checks if not {key.asset_key for key in check.check_keys} <= built
]

hourly_job = dg.define_asset_job(
    "hourly",
    selection=dg.AssetSelection.assets(dbt_hourly) | dg.AssetSelection.checks(*source_gx_checks),
    partitions_def=hourly_partitions,
    description=(
        "What landed in the hour: staging, the change log, trade P&L, the hourly level; the"
        " Great Expectations suites of the raw tables."
    ),
)
daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.assets(dbt_daily, dbt_unpartitioned, ab_test_results),
    partitions_def=daily_partitions,
    description="The coarser levels, calibration, the A/B analysis and the marts.",
)
freshness_job, freshness_sensor = freshness_job_and_sensor(freshness_checks)

defs = dg.Definitions(
    assets=assets,
    asset_checks=[*gx_checks, *freshness_checks],
    jobs=[hourly_job, daily_job, freshness_job],
    schedules=[
        # A few minutes past the hour, for the hour that just ended.
        dg.build_schedule_from_partitioned_job(hourly_job, minute_of_hour=5),
        # After midnight in the reporting time zone (the partitions' zone), for the day before.
        dg.build_schedule_from_partitioned_job(daily_job, hour_of_day=0, minute_of_hour=30),
    ],
    sensors=[freshness_sensor],
    resources={
        "dbt": dbt_resource(),
        "warehouse": WarehouseResource(),
    },
)
