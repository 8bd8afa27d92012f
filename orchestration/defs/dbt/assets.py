"""The dbt project as Dagster assets: one `@dbt_assets` per partitions definition, chosen by
each model's meta `partitioning` (dbt_project.yml)."""

import importlib
import json
import logging
import shutil
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import cache
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.defs.dbt.check_descriptions import describe_test
from orchestration.defs.dbt.partitions import PARTITIONS, RunScope
from orchestration.defs.dbt.resources import dbt_project
from orchestration.defs.resources import WarehouseResource

# How stale a model may get before the UI shows it degraded (warn) or failing: an hour's
# schedule plus its run and a margin, a day's likewise. By the model's meta `partitioning`.
FRESHNESS = {
    "hourly": dg.FreshnessPolicy.time_window(
        warn_window=timedelta(hours=2), fail_window=timedelta(hours=6)
    ),
    "daily": dg.FreshnessPolicy.time_window(
        warn_window=timedelta(hours=26), fail_window=timedelta(hours=50)
    ),
}


class PrecogTranslator(DagsterDbtTranslator):
    """Groups assets by dbt layer (the folder under models/); sources, keyed `raw/<table>` by
    default, form group `raw`, where lineage starts. Every model is keyed `<schema>/<relation>`,
    versioned ones too (by default a version is keyed by its alias alone), carries a freshness
    policy by its partitioning, and links to its SQL file (code references)."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec.replace_attributes(group_name=props["source_name"])
        if props.get("version") and len(spec.key.path) == 1:
            spec = spec.replace_attributes(key=dg.AssetKey([props["schema"], props["alias"]]))
        partitioning = props["config"].get("meta", {}).get("partitioning", "daily")
        return spec.replace_attributes(
            group_name=props["fqn"][1], freshness_policy=FRESHNESS[partitioning]
        )

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dbt tests are asset checks (on by default), blocking unless their severity is warn,
        each described in a sentence (check_descriptions.py).

        Without the additional deps dagster-dbt gives a test on several models (relationships):
        when a job splits a dbt multi-asset into steps around a Python asset, Dagster put such a
        test in a step of its own, not after its model (relationships_int_ab_market_outcomes_...
        ran before int_ab_market_outcomes was built, and passed on retry or on yesterday's table).
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        description = describe_test(manifest["nodes"][unique_id])
        return spec._replace(additional_deps=[], description=description)


class DbtBuildConfig(dg.Config):
    # Row counts of the tables built, as materialization metadata (with_row_counts).
    fetch_row_counts: bool = True


log = logging.getLogger(__name__)
ROW_COUNT_THREADS = 4


def with_row_counts(
    events: Iterable[Any], manifest: Mapping[str, Any], warehouse: WarehouseResource
) -> Iterator[Any]:
    """The events of a dbt run, each table's materialization with its row count (metadata
    `dagster/row_count`); dagster-dbt already gives each model's `Execution Duration`.

    Counted while dbt goes on, a few at a time, and yielded in dbt's order. Only tables rebuilt
    whole are counted, a cost their build has already paid: counting a view would run its query,
    and an incremental model (int_trade_pnl) would be read whole every hour for the few rows
    the run added (0.42 s of the hourly job's database time at 1M trades, growing with
    history). Relations are named `schema.alias`: dagster-dbt's own fetch_row_counts() uses the
    manifest's database-qualified name, which is the database the project was parsed against,
    not necessarily the one the run builds.
    """

    def count(event: Any) -> Any:
        if not isinstance(event, (dg.Output, dg.AssetMaterialization)):
            return event
        unique_id = event.metadata.get("unique_id")
        node = manifest["nodes"].get(unique_id.value) if unique_id is not None else None
        if node is None or node["config"]["materialized"] != "table":
            return event
        connection = warehouse.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'select count(*) from "{node["schema"]}"."{node["alias"]}"')
                rows = cursor.fetchone()[0]
        except Exception:  # metadata only: never fail the run for it
            log.warning("no row count for %s", node["unique_id"], exc_info=True)
            return event
        finally:
            connection.close()
        return event.with_metadata(
            {**event.metadata, "dagster/row_count": dg.MetadataValue.int(rows)}
        )

    with ThreadPoolExecutor(ROW_COUNT_THREADS, thread_name_prefix="row_count") as pool:
        pending = deque()
        for event in events:
            pending.append(pool.submit(count, event))
            while pending and pending[0].done():
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# Transient database errors (a dropped connection, a restart) are retried; dbt's own failures
# fail the step again and stop there.
DBT_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


# What the steps after dbt in a job import, by the job's partitioning: the hourly job's suites of
# the raw tables import Great Expectations (1.6-2.1 s at 1M). Imported in the dbt step once dbt
# has started in its own process, about 2 s during which this process only waits, so that a
# run of the whole job in one process (`precog run`) does not pay it on the job's clock. In the
# main thread: an import in a thread beside the main thread's raced it (4eda0ad).
IMPORTED_WHILE_DBT_STARTS = {"hourly": ("great_expectations",), "daily": ()}


@cache
def dbt_models(partitioning: str) -> dg.AssetsDefinition:
    """The dbt models whose meta `partitioning` is `partitioning` ("hourly" or "daily"), as
    one multi-asset; a partitioned run or backfill is one `dbt build` over its landing window."""

    manifest = json.loads(dbt_project().manifest_path.read_text())
    incremental = [
        node["alias"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["config"].get("meta", {}).get("partitioning", "daily") == partitioning
    ]

    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select=f"config.meta.partitioning:{partitioning}",
        name=f"dbt_{partitioning}",
        partitions_def=PARTITIONS[partitioning],
        backfill_policy=dg.BackfillPolicy.single_run(),
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
        scope = RunScope.of(context)
        owed = None if scope.full_refresh else warehouse.full_refresh_owed(incremental)
        if owed is not None:
            context.log.warning(f"the incremental models are rebuilt whole: {owed}")
        invocation = dbt.cli(scope.dbt_build_args(owed), context=context)
        for module in IMPORTED_WHILE_DBT_STARTS[partitioning]:
            importlib.import_module(module)
        events = invocation.stream()
        if config.fetch_row_counts:
            events = with_row_counts(events, invocation.manifest, warehouse)
        yield from events
        # The step's own target folder (its compiled SQL, dbt.log, a copy of the parse: 6 MB
        # an hour) is kept for the post-mortem of a step that failed, and only then.
        shutil.rmtree(invocation.target_path, ignore_errors=True)

    return assets


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[dbt_models(partitioning) for partitioning in PARTITIONS])
