"""Freshness as asset checks, evaluated by a sensor.

- Source freshness, check `freshness` on every `raw/<table>` whose dbt source declares one
  (models/staging/_sources.yml is the one place of the thresholds, read from the manifest): the
  age of the newest `loaded_at` against warn_after (WARN) and error_after (ERROR), as
  `dbt source freshness` grades it, with the database's clock.
- Rollup freshness, check `freshness` on the incremental models of ROLLUP_LAG: how long the
  oldest raw row the model has not processed yet has been waiting (0 when it has processed
  everything that landed), against the freshness of the source named there (the source
  document's thresholds for aggregation delay). A model's progress is its watermark in
  precog_meta.build_watermarks (macros/incremental.sql): it has processed every change-log
  capture up to it, so every raw row that landed before those captures' `complete_before`.

Sensor `freshness_sensor` runs job `freshness_checks` (all of them) every FRESHNESS_INTERVAL.
"""

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import dagster as dg
from psycopg2 import sql

from orchestration.defs.checks.manifest import (
    SourceFreshness,
    asset_key,
    find_relation,
    load_manifest,
    relation_of,
    source_freshness,
    source_parents,
    sources_with_freshness,
)
from orchestration.defs.resources import WarehouseResource
from precog.warehouse.bookkeeping import CHANGE_LOG, oldest_unprocessed

CHECK_NAME = "freshness"
FRESHNESS_INTERVAL = timedelta(minutes=15)

# The change log every incremental model processes (models/intermediate/int_position_changes.sql),
# and the incremental models whose lag is checked, each with the source whose freshness applies.
ROLLUP_LAG: Mapping[str, str] = {"intermediate.int_pnl_hourly": "raw.trades"}


def _identifier(relation: str) -> sql.Composable:
    return sql.Identifier(*relation.split("."))


def _rounded(delta: timedelta) -> timedelta:
    return timedelta(seconds=round(delta.total_seconds()))


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 3)


def grade(
    freshness: SourceFreshness, age: timedelta | None, subject: str, metadata: dict[str, Any]
) -> dg.AssetCheckResult:
    """The check result of an age (None: nothing to measure it from, an error)."""
    metadata = {
        **metadata,
        "age_hours": _hours(age),
        "warn_after_hours": _hours(freshness.warn_after),
        "error_after_hours": _hours(freshness.error_after),
    }
    if age is None:
        return dg.AssetCheckResult(
            passed=False, description=f"{subject}: no rows", metadata=metadata
        )
    severity = freshness.severity(age)
    if severity is None:
        return dg.AssetCheckResult(
            passed=True, description=f"{subject} {_rounded(age)} old", metadata=metadata
        )
    limit = (
        freshness.error_after if severity == dg.AssetCheckSeverity.ERROR else freshness.warn_after
    )
    return dg.AssetCheckResult(
        passed=False,
        severity=severity,
        description=f"{subject} {_rounded(age)} old, more than {limit}",
        metadata=metadata,
    )


def source_freshness_checks(manifest: Mapping[str, Any]) -> list[dg.AssetChecksDefinition]:
    """Check `freshness` on every source with a freshness, in one op (one connection)."""
    sources = {asset_key(manifest, node): fresh for node, fresh in sources_with_freshness(manifest)}
    if not sources:
        return []
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description=(
                f"dbt source freshness of {fresh.relation}: newest {fresh.loaded_at_field} warns"
                f" after {fresh.warn_after}, errors after {fresh.error_after}"
            ),
        )
        for key, fresh in sources.items()
    ]

    @dg.multi_asset_check(specs=specs, name="source_freshness", can_subset=True)
    def _checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        connection = warehouse.connect()
        try:
            with connection, connection.cursor() as cursor:
                for check_key in sorted(context.selected_asset_check_keys, key=str):
                    fresh = sources[check_key.asset_key]
                    query = sql.SQL("select max({loaded_at}), now() from {relation}").format(
                        loaded_at=sql.SQL(fresh.loaded_at_field),
                        relation=_identifier(fresh.relation),
                    )
                    if fresh.filter:
                        query += sql.SQL(" where ") + sql.SQL(fresh.filter)
                    cursor.execute(query)
                    newest, now = cursor.fetchone()
                    result = grade(
                        fresh,
                        None if newest is None else now - newest,
                        f"newest row of {fresh.relation}",
                        {"relation": fresh.relation, "newest_loaded_at": _iso(newest)},
                    )
                    yield _for(result, check_key)
        finally:
            connection.close()

    return [_checks]


def _for(result: dg.AssetCheckResult, key: dg.AssetCheckKey) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=result.passed,
        severity=result.severity,
        description=result.description,
        metadata=result.metadata,
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def rollup_freshness_checks(
    manifest: Mapping[str, Any], rollups: Mapping[str, str] = ROLLUP_LAG
) -> list[dg.AssetChecksDefinition]:
    """Check `freshness` on each incremental model of `rollups`."""
    change_log_node = find_relation(manifest, CHANGE_LOG)
    if change_log_node is None:
        raise ValueError(f"the dbt project has no change log {CHANGE_LOG}")
    raw_tables = [relation_of(node) for node in source_parents(manifest, change_log_node)]
    checks = []
    for model, source in rollups.items():
        model_node, source_node = find_relation(manifest, model), find_relation(manifest, source)
        if model_node is None or source_node is None:
            raise ValueError(f"rollup freshness of {model} by {source}: no such dbt relation")
        fresh = source_freshness(source_node)
        if fresh is None:
            raise ValueError(f"rollup freshness of {model}: source {source} has no freshness")
        checks.append(_rollup_check(asset_key(manifest, model_node), model, fresh, raw_tables))
    return checks


def _rollup_check(
    key: dg.AssetKey, model: str, fresh: SourceFreshness, raw_tables: list[str]
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        description=(
            f"How long the oldest row landed in {', '.join(raw_tables)} and not yet in {model}"
            f" has waited: warns after {fresh.warn_after}, errors after {fresh.error_after}"
            f" (freshness of source {fresh.relation})"
        ),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        for relation in (CHANGE_LOG, model):
            if not warehouse.relation_exists(relation):
                return dg.AssetCheckResult(
                    passed=False,
                    description=f"{relation} does not exist: the pipeline has not run yet",
                )
        connection = warehouse.connect()
        try:
            with connection, connection.cursor() as cursor:
                through, oldest, now = oldest_unprocessed(cursor, model, raw_tables)
        finally:
            connection.close()
        metadata = {
            "model": model,
            "processed_through": _iso(through),
            "oldest_unprocessed_loaded_at": _iso(oldest),
        }
        age = timedelta(0) if oldest is None else max(now - oldest, timedelta(0))
        return grade(fresh, age, f"oldest row not yet in {model}", metadata)

    return _check


@cache
def freshness_checks() -> list[dg.AssetChecksDefinition]:
    """The source and rollup freshness checks of the project, built once."""
    manifest = load_manifest()
    return [*source_freshness_checks(manifest), *rollup_freshness_checks(manifest)]


def freshness_job_and_sensor(checks: list[dg.AssetChecksDefinition]):
    """Job `freshness_checks` of `checks`, and sensor `freshness_sensor` running it every
    FRESHNESS_INTERVAL unless a run of it is still queued or in progress."""
    job = dg.define_asset_job(
        "freshness_checks",
        selection=dg.AssetSelection.checks(*checks),
        description="Source and rollup freshness (orchestration/defs/checks/freshness.py).",
    )

    @dg.sensor(
        name="freshness_sensor",
        job=job,
        minimum_interval_seconds=int(FRESHNESS_INTERVAL.total_seconds()),
        # Off, as the schedules are: on a desk whose schedules nobody turned on, it would
        # report every source stale. Turned on with them.
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Runs the freshness checks every {FRESHNESS_INTERVAL}. Turn it on with the"
            " hourly and daily schedules."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext):
        in_flight = context.instance.get_run_records(
            filters=dg.RunsFilter(
                job_name=job.name,
                statuses=[
                    dg.DagsterRunStatus.QUEUED,
                    dg.DagsterRunStatus.NOT_STARTED,
                    dg.DagsterRunStatus.STARTING,
                    dg.DagsterRunStatus.STARTED,
                ],
            ),
            limit=1,
        )
        if in_flight:
            return dg.SkipReason(f"run {in_flight[0].dagster_run.run_id} is still evaluating")
        return dg.RunRequest()

    return job, _sensor


@dg.definitions
def defs() -> dg.Definitions:
    job, sensor = freshness_job_and_sensor(freshness_checks())
    return dg.Definitions(asset_checks=freshness_checks(), jobs=[job], sensors=[sensor])
