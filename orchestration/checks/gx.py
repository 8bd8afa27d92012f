"""Great Expectations suites (orchestration/checks/expectations.py) as Dagster asset checks.

Each suite is validated by GX against the warehouse in use (an ephemeral GX context, a SQL data
source on the warehouse, the relation as a table asset): GX computes its metrics in PostgreSQL,
no rows are pulled into Python. The check reports what GX found as metadata: expectations
evaluated and failed, and for each failed one its unexpected count and share or observed value.
Great Expectations is imported when a check runs, never when the definitions load.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg

from orchestration.checks.expectations import SUITES, Expectation, Suite, describe
from orchestration.checks.manifest import asset_key, find_relation
from orchestration.resources import WarehouseResource

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


def validate(relation: str, suite: Suite, sqlalchemy_url: str):
    """Validate `suite` on the whole of `relation` (`schema.table`); GX's validation result."""
    import great_expectations as gx

    context = _gx_context()
    # add_sql, not add_postgres: the latter rejects URLs of a Unix-socket server (embedded).
    source = context.data_sources.add_sql(name="warehouse", connection_string=sqlalchemy_url)
    try:
        schema, _, table = relation.partition(".")
        asset = source.add_table_asset(name=relation, schema_name=schema, table_name=table)
        batch = asset.add_batch_definition_whole_table("whole table").get_batch()
        gx_suite = gx.ExpectationSuite(
            name=relation, expectations=[build_gx_expectation(e) for e in suite.expectations]
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


def check_result(rows: list[dict[str, Any]], suite: Suite, relation: str, seconds: float):
    """The asset check result of a suite's rows (`summarize`)."""
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
        # A mart failing its suite stops whatever reads it in the same run.
        blocking=suite.severity == dg.AssetCheckSeverity.ERROR,
        metadata={"relation": relation, "expectations": len(suite.expectations)},
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
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
        result = validate(relation, suite, warehouse.sqlalchemy_url())
        return check_result(summarize(result), suite, relation, time.perf_counter() - started)

    return _check


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
