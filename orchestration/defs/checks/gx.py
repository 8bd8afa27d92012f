"""Great Expectations suites (orchestration/defs/checks/expectations.py) as Dagster asset checks.

Each suite is validated by GX against the warehouse in use (an ephemeral GX context, a SQL data
source on the warehouse, the relation as a table asset): GX computes its metrics in PostgreSQL,
no rows are pulled into Python. The check reports what GX found as metadata: expectations
evaluated and failed, and for each failed one its unexpected count and share or observed value.
Great Expectations is imported when a check runs, never when the definitions load.

The suites of the raw landing tables run with each hourly run; a partitioned run validates what
landed, not the whole history: the rows that landed in its partition window or have not been
validated yet (bookkeeping.unvalidated_since), the landing window of the dbt tests of staging
(macros/test_windows.sql), so that every row is validated by some run and a run's cost grows
with what landed. Row-level expectations see those rows (uniqueness: with every other row
of their key); a table-level one (row count) is left to an unpartitioned evaluation, where every
suite validates its whole relation.
"""

import logging
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

import dagster as dg

from orchestration.defs.checks.expectations import SUITES, Expectation, Suite, describe
from orchestration.defs.checks.manifest import asset_key, find_relation, load_manifest
from orchestration.defs.dbt.partitions import RunScope
from orchestration.defs.resources import WarehouseResource
from precog.warehouse.bookkeeping import landed_condition

CHECK_NAME = "great_expectations"

log = logging.getLogger(__name__)


def build_gx_expectation(expectation: Expectation):
    """The GX expectation object of a declared one (raises on an unknown type or argument)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    return ExpectationConfiguration(
        type=expectation.gx_type, kwargs=dict(expectation.kwargs)
    ).to_domain_obj()


def _gx_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        analytics_enabled=False,  # no usage statistics sent from the desk's warehouse
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


# The raw relations validated on a landing window, and the rows that window is, from `landed` (a
# condition on loaded_at): a trade_id's uniqueness is checked against all its copies.
LANDING_WINDOWS: Mapping[str, str] = {
    "raw.trades": "trade_id in (select trade_id from raw.trades where {landed})",
    "raw.positions": "{landed}",
}
# Expectations on the whole table, not evaluated on a landing window.
TABLE_LEVEL = frozenset({"table_row_count_to_be_between"})


def validate(relation: str, suite: Suite, sqlalchemy_url: str, where: str | None = None):
    """Validate `suite` on the whole of `relation` (`schema.table`), or on its rows where
    `where` holds (table-level expectations left out); GX's validation result."""
    import great_expectations as gx

    context = _gx_context()
    # add_sql, not add_postgres: the latter rejects URLs of a Unix-socket server (embedded).
    source = context.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url)
    try:
        schema, _, table = relation.partition(".")
        expectations = suite.expectations
        if where is None:
            asset = source.add_table_asset(name=relation, schema_name=schema, table_name=table)
        else:
            asset = source.add_query_asset(
                name=relation, query=f"select * from {relation} where {where}"
            )
            expectations = [e for e in expectations if e.type not in TABLE_LEVEL]
        batch = asset.add_batch_definition_whole_table("whole table").get_batch()
        gx_suite = gx.ExpectationSuite(
            name=relation, expectations=[build_gx_expectation(e) for e in expectations]
        )
        return batch.validate(gx_suite)
    finally:  # their connection pools: the data source's and its execution engine's
        source.get_execution_engine().close()
        source.get_engine().dispose()


def _errors(exception_info: Mapping[str, Any] | None) -> list[str]:
    """GX's exception messages: one `exception_info`, or one per metric that raised."""
    if not exception_info:
        return []
    infos = [exception_info] if "raised_exception" in exception_info else exception_info.values()
    return sorted({info["exception_message"] for info in infos if info.get("raised_exception")})


def summarize(result: Any) -> list[dict[str, Any]]:
    """One row per expectation GX evaluated: what it checks, passed, and what GX found."""
    rows = []
    for outcome in result.results:
        config, found = outcome.expectation_config, outcome.result or {}
        row = {"expectation": describe(config.type, config.kwargs), "passed": bool(outcome.success)}
        if "unexpected_count" in found:
            row["unexpected_count"] = found["unexpected_count"]
            row["unexpected_percent"] = round(found.get("unexpected_percent") or 0.0, 4)
        if "observed_value" in found:
            row["observed_value"] = str(found["observed_value"])
        if errors := _errors(outcome.exception_info):
            row["error"] = "; ".join(errors)
        rows.append(row)
    return rows


def check_result(
    rows: list[dict[str, Any]],
    suite: Suite,
    relation: str,
    seconds: float,
    where: str | None = None,
):
    """The asset check result of a suite's rows (`summarize`), validated where `where` holds."""
    failed = [row for row in rows if not row["passed"]]
    description = (
        f"{len(failed)} of {len(rows)} expectations failed on {relation}: "
        + "; ".join(
            row["expectation"]
            + (f" ({row['unexpected_count']} unexpected)" if "unexpected_count" in row else "")
            + (f" (observed {row['observed_value']})" if "observed_value" in row else "")
            + (f" ({row['error']})" if "error" in row else "")
            for row in failed
        )
        if failed
        else f"{len(rows)} expectations met on {relation}"
    )
    return dg.AssetCheckResult(
        passed=not failed,
        severity=suite.severity,
        description=description,
        metadata={
            "relation": relation,
            "expectations_evaluated": len(rows),
            "expectations_failed": len(failed),
            "unexpected_rows": sum(row.get("unexpected_count", 0) for row in failed),
            "failed_expectations": dg.MetadataValue.json(failed),
            "results": dg.MetadataValue.md(_markdown(rows)),
            "duration_seconds": round(seconds, 3),
            "rows_validated": where or "all",
        },
    )


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| expectation | passed | unexpected | unexpected % | observed | error |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [
            row["expectation"],
            "yes" if row["passed"] else "**no**",
            *(row.get(field, "") for field in ("unexpected_count", "unexpected_percent")),
            *(row.get(field, "") for field in ("observed_value", "error")),
        ]
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def _suite_check(key: dg.AssetKey, relation: str, suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        description=f"Great Expectations suite of {relation}: {suite.description}",
        # A suite of error severity stops whatever reads its relation in the same run.
        blocking=suite.severity == dg.AssetCheckSeverity.ERROR,
        metadata={"relation": relation, "expectations": len(suite.expectations)},
    )
    def _check(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        if not warehouse.relation_exists(relation):
            return dg.AssetCheckResult(
                passed=False,
                severity=suite.severity,
                description=(
                    f"relation {relation} does not exist in the warehouse: materialize"
                    f" {key.to_user_string()} first"
                ),
                metadata={"relation": relation},
            )
        started = time.perf_counter()
        where = landing_window(context, warehouse, relation)
        result = validate(relation, suite, warehouse.sqlalchemy_url(), where)
        seconds = time.perf_counter() - started
        return check_result(summarize(result), suite, relation, seconds, where)

    return _check


def landing_window(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, relation: str
) -> str | None:
    """The condition on the rows of `relation` this run validates; None for all of them (not a
    landing table, or a run that validates everything: RunScope)."""
    scope = RunScope.of(context)
    if relation not in LANDING_WINDOWS or scope.validates_everything:
        return None
    connection = warehouse.connect()
    try:
        with connection.cursor() as cursor:
            landed = landed_condition(cursor, scope.validation_window)
    finally:
        connection.close()
    return None if landed is None else LANDING_WINDOWS[relation].format(landed=landed)


def great_expectations_checks(
    manifest: Mapping[str, Any], suites: Mapping[str, Suite] = SUITES
) -> list[dg.AssetChecksDefinition]:
    """One asset check per suite whose relation the dbt project defines (a model or source)."""
    checks = []
    for relation, suite in suites.items():
        node = find_relation(manifest, relation)
        if node is None:
            log.warning(
                "no Great Expectations check for %s: the dbt project has no such relation", relation
            )
            continue
        checks.append(_suite_check(asset_key(manifest, node), relation, suite))
    return checks


@cache
def gx_checks() -> list[dg.AssetChecksDefinition]:
    """The project's Great Expectations checks, built once."""
    return great_expectations_checks(load_manifest())


def raw_gx_checks() -> list[dg.AssetChecksDefinition]:
    """The suites of the raw landing tables: no job materializes those, so the hourly job runs
    them, on what landed."""
    return [
        check
        for check in gx_checks()
        if all(key.asset_key.path[0] == "raw" for key in check.check_keys)
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=gx_checks())
