"""The dbt project as Dagster assets."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt import dbt_project
from orchestration.resources import WarehouseResource

# Parses the project only under `dagster dev`; elsewhere `precog` prepares the manifest first.
dbt_project.prepare_if_dev()


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


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=PrecogTranslator())
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
):
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    yield from dbt.cli(args, context=context).stream()
