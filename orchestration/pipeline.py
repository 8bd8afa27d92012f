"""Run the whole pipeline once, in process, through the Dagster definitions (`precog run`)."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt import prepare_manifest


def run(full_refresh: bool = False) -> dg.ExecuteInProcessResult:
    prepare_manifest()
    from orchestration.definitions import defs

    run_config = {"ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}}}
    # The project's instance (dagster.yaml in DAGSTER_HOME): the run shows in the UI's history.
    with dg.DagsterInstance.get() as instance:
        return defs.get_job_def("pipeline").execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
