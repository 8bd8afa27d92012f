"""Run the whole pipeline once, in process, through the Dagster definitions (`precog run`):
the hourly job for the last complete hour, then the daily job for the last complete day. Each
processes everything that landed since its previous run, whatever its window."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt import prepare_manifest


def run(full_refresh: bool = False) -> bool:
    prepare_manifest()
    from orchestration.definitions import defs

    config = {"full_refresh": full_refresh}
    # The project's instance (dagster.yaml in DAGSTER_HOME): runs show in the UI's history.
    with dg.DagsterInstance.get() as instance:
        for name, ops in [
            ("hourly", ["dbt_hourly"]),
            ("daily", ["dbt_daily", "dbt_none"]),
        ]:
            job = defs.resolve_job_def(name)
            partition_key = job.partitions_def.get_last_partition_key()
            result = job.execute_in_process(
                run_config={"ops": {op: {"config": config} for op in ops}},
                instance=instance,
                partition_key=partition_key,
                raise_on_error=False,
            )
            if not result.success:
                return False
    return True
