"""The dbt project as Dagster assets."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.dbt import dbt_project, prepare_manifest
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


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=PrecogTranslator())
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
):
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    yield from dbt.cli(args, context=context).stream()
