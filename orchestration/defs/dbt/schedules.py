"""The two partitioned jobs and their schedules.

A job selecting an asset runs the checks on it after it (the dbt tests, the suites of the
marts, the hourly level's freshness). The suites of the raw landing tables, which no job
materializes, run with each hourly run, on what has landed.
"""

import dagster as dg

from orchestration.defs.ab_testing.assets import ab_test_results
from orchestration.defs.checks.gx import raw_gx_checks
from orchestration.defs.dbt.assets import dbt_models
from orchestration.defs.dbt.partitions import daily_partitions, hourly_partitions

# The jobs, named after their partitions, in the order a whole run (`precog run`) runs them.
JOBS = HOURLY, DAILY = ("hourly", "daily")


@dg.definitions
def defs() -> dg.Definitions:
    hourly_job = dg.define_asset_job(
        HOURLY,
        selection=dg.AssetSelection.assets(dbt_models(HOURLY))
        | dg.AssetSelection.checks(*raw_gx_checks()),
        partitions_def=hourly_partitions,
        description=(
            "What landed in the hour: staging, the change log, trade P&L, the hourly level; the"
            " Great Expectations suites of the raw tables."
        ),
    )
    daily_job = dg.define_asset_job(
        DAILY,
        selection=dg.AssetSelection.assets(dbt_models(DAILY), ab_test_results()),
        partitions_def=daily_partitions,
        description="The coarser levels, calibration, the A/B analysis and the marts.",
    )
    return dg.Definitions(
        jobs=[hourly_job, daily_job],
        schedules=[
            # A few minutes past the hour, for the hour that just ended.
            dg.build_schedule_from_partitioned_job(hourly_job, minute_of_hour=5),
            # After midnight in the reporting time zone (the partitions' zone), for the day
            # before.
            dg.build_schedule_from_partitioned_job(daily_job, hour_of_day=0, minute_of_hour=30),
        ],
    )
