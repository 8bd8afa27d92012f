"""The Dagster code location: everything the operator sees in the UI."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ab_testing import ab_test_results
from orchestration.assets.dbt import dbt_daily, dbt_hourly, dbt_unpartitioned
from orchestration.dbt import dbt_resource
from orchestration.partitions import daily_partitions, hourly_partitions
from orchestration.resources import WarehouseResource

hourly_job = dg.define_asset_job(
    "hourly",
    selection=dg.AssetSelection.assets(dbt_hourly),
    partitions_def=hourly_partitions,
    description="What landed in the hour: staging, the change log, trade P&L, the hourly level.",
)
daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.assets(dbt_daily, dbt_unpartitioned, ab_test_results),
    partitions_def=daily_partitions,
    description="The coarser levels, calibration, the A/B analysis and the marts.",
)

defs = dg.Definitions(
    assets=[dbt_hourly, dbt_daily, dbt_unpartitioned, ab_test_results],
    jobs=[hourly_job, daily_job],
    schedules=[
        # A few minutes past the hour, for the hour that just ended.
        dg.build_schedule_from_partitioned_job(hourly_job, minute_of_hour=5),
        # After midnight in the reporting time zone (the partitions' zone), for the day before.
        dg.build_schedule_from_partitioned_job(daily_job, hour_of_day=0, minute_of_hour=30),
    ],
    resources={
        "dbt": dbt_resource(),
        "warehouse": WarehouseResource(),
    },
)
