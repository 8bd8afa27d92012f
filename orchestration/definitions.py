"""The Dagster code location: everything the operator sees in the UI."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ab_testing import ab_test_results
from orchestration.assets.dbt import dbt_models
from orchestration.dbt import dbt_resource
from orchestration.resources import WarehouseResource

pipeline_job = dg.define_asset_job(
    "pipeline", selection=dg.AssetSelection.all(), description="Everything, once, in order."
)

defs = dg.Definitions(
    assets=[dbt_models, ab_test_results],
    jobs=[pipeline_job],
    resources={
        "dbt": dbt_resource(),
        "warehouse": WarehouseResource(),
    },
)
