"""The dbt project as Dagster assets."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.dbt import dbt_project, prepare_manifest
from orchestration.partitions import daily_partitions, dbt_build_args, hourly_partitions
from orchestration.resources import WarehouseResource

# Under `dagster dev`, parse the project so edits show up; elsewhere `precog` parses it first.
# (DbtProject.prepare_if_dev would run whichever `dbt` is first on PATH, not this environment's.)
if using_dagster_dev():
    prepare_manifest()


class PrecogTranslator(DagsterDbtTranslator):
    """Groups assets by dbt layer (the folder under models/); sources, keyed `raw/<table>` by
    default, form group `raw`, where lineage starts."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(group_name=props["source_name"])
        return spec.replace_attributes(group_name=props["fqn"][1])


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False


# Transient database errors (a dropped connection, a restart) are retried; dbt's own failures
# fail the step again and stop there.
DBT_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


def _dbt_assets(partitioning: str, partitions_def: dg.PartitionsDefinition | None):
    """The dbt models whose meta `partitioning` is `partitioning` (dbt_project.yml), as one
    multi-asset; a partitioned run or backfill is one `dbt build` over its landing window."""

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        select=f"config.meta.partitioning:{partitioning}",
        name=f"dbt_{partitioning}",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        dagster_dbt_translator=PrecogTranslator(),
        retry_policy=DBT_RETRY,
        pool="dbt",
    )
    def assets(
        context: dg.AssetExecutionContext,
        config: DbtBuildConfig,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
    ):
        window = None
        if partitions_def is not None:
            window = (context.partition_time_window.start, context.partition_time_window.end)
        args = dbt_build_args(window, full_refresh=config.full_refresh)
        yield from dbt.cli(args, context=context).stream()

    return assets


dbt_hourly = _dbt_assets("hourly", hourly_partitions)
dbt_daily = _dbt_assets("daily", daily_partitions)
dbt_unpartitioned = _dbt_assets("none", None)
