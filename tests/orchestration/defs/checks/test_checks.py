"""Validation and freshness checks (orchestration/defs/checks/): the pure helpers, then the
checks run in process through the Dagster definitions against a simulated desk, passing, then
failing with the right severity once something is broken."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from orchestration import definitions
from orchestration.defs.checks.expectations import SUITES, Suite, expect
from orchestration.defs.checks.gx import (
    LANDING_WINDOWS,
    build_gx_expectation,
    great_expectations_checks,
    summarize,
    validate,
)
from orchestration.defs.checks.manifest import (
    SourceFreshness,
    asset_key,
    find_relation,
    load_manifest,
    source_freshness,
    threshold,
)
from precog import simulator
from precog.warehouse.bookkeeping import landed_condition

WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR
GX, FRESHNESS = "great_expectations", "freshness"
HOURLY_LEVEL = dg.AssetKey(["intermediate", "int_pnl_hourly"])


def key(*path: str) -> dg.AssetKey:
    return dg.AssetKey(list(path))


# --- pure helpers ---------------------------------------------------------------------------


def test_threshold_of_a_dbt_freshness_spec():
    assert threshold({"count": 2, "period": "hour"}) == timedelta(hours=2)
    assert threshold({"count": 30, "period": "minute"}) == timedelta(minutes=30)
    assert threshold({"count": 1, "period": "day"}) == timedelta(days=1)
    assert threshold({"count": None, "period": None}) is None
    assert threshold(None) is None
    with pytest.raises(ValueError, match="fortnight"):
        threshold({"count": 1, "period": "fortnight"})


def test_source_freshness_grades_as_dbt():
    source = {
        "resource_type": "source",
        "schema": "raw",
        "identifier": "trades",
        "config": {
            "loaded_at_field": "loaded_at",
            "freshness": {
                "warn_after": {"count": 2, "period": "hour"},
                "error_after": {"count": 6, "period": "hour"},
                "filter": None,
            },
        },
    }
    fresh = source_freshness(source)
    assert fresh == SourceFreshness(
        "raw.trades", "loaded_at", timedelta(hours=2), timedelta(hours=6)
    )
    assert fresh.severity(timedelta(hours=1)) is None
    assert fresh.severity(timedelta(hours=2)) is None  # strictly older than the threshold
    assert fresh.severity(timedelta(hours=2, seconds=1)) == WARN
    assert fresh.severity(timedelta(hours=6, seconds=1)) == ERROR
    # `freshness: null` in the yml, or no loaded_at_field: no freshness, as dbt skips them.
    assert source_freshness({**source, "config": {"loaded_at_field": "loaded_at"}}) is None
    no_field = {**source, "config": {**source["config"], "loaded_at_field": None}}
    assert source_freshness(no_field) is None
    warn_only = {"warn_after": {"count": 1, "period": "day"}, "error_after": {}}
    only = source_freshness({**source, "config": {"loaded_at_field": "x", "freshness": warn_only}})
    assert only.severity(timedelta(days=30)) == WARN


def test_the_thresholds_are_the_sources_yml():
    manifest = load_manifest()
    trades = source_freshness(find_relation(manifest, "raw.trades"))
    assert (trades.warn_after, trades.error_after) == (timedelta(hours=2), timedelta(hours=6))
    assert source_freshness(find_relation(manifest, "raw.strategies")) is None  # reference data


def test_every_declared_expectation_is_a_valid_gx_expectation():

    for relation, suite in SUITES.items():
        assert suite.expectations, relation
        for expectation in suite.expectations:
            gx_expectation = build_gx_expectation(expectation)
            assert gx_expectation.expectation_type == expectation.gx_type
        expected = WARN if relation.startswith("raw.") else ERROR
        assert suite.severity == expected, relation


def test_a_suite_of_a_relation_the_project_lacks_is_skipped_with_a_warning(caplog):

    suites = {
        "marts.not_built_yet": Suite(
            (expect("table_row_count_to_be_between", min_value=1),), ERROR, "-"
        ),
        "raw.trades": SUITES["raw.trades"],
    }
    with caplog.at_level(logging.WARNING):
        checks = great_expectations_checks(load_manifest(), suites)
    assert [list(check.check_keys) for check in checks] == [
        [dg.AssetCheckKey(key("raw", "trades"), GX)]
    ]
    assert "marts.not_built_yet" in caplog.text


# --- against a simulated desk ---------------------------------------------------------------


@pytest.fixture
def defs(warehouse, monkeypatch) -> dg.Definitions:
    """The definitions, with every process of a run (dbt's too) pointed at the test's
    database by the libpq variables (restored after)."""
    for name, value in warehouse.libpq_env().items():
        monkeypatch.setenv(name, value)
    return definitions.defs()


def run_job(defs: dg.Definitions, name: str) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(name)
    partition_key = job.partitions_def.get_last_partition_key() if job.partitions_def else None
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=partition_key, raise_on_error=False
    )
    return result


def evaluate(defs: dg.Definitions, *check_keys: dg.AssetCheckKey):
    """Run just these checks, in process; their evaluations by key."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection=set(check_keys)
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return evaluations(result)


def evaluations(result: dg.ExecuteInProcessResult):
    return {
        dg.AssetCheckKey(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()
    }


def gx_failures(evaluation) -> dict[str, int | None]:
    return {
        row["expectation"]: row.get("unexpected_count")
        for row in evaluation.metadata["failed_expectations"].value
    }


def test_suites_pass_on_a_desk_then_fail_on_bad_input(defs, cursor):
    simulator.simulate_history(trades=3000, seed=3, end=datetime(2026, 2, 1, tzinfo=UTC))
    hourly = run_job(defs, "hourly")
    assert hourly.success

    # Run metadata: row counts of the tables rebuilt whole (not of views, nor of incremental
    # models: read whole every hour for what changed), and dbt's durations.
    materialized = {
        e.asset_key: e.materialization.metadata for e in hourly.get_asset_materialization_events()
    }
    cursor.execute("select count(*) from marts.mv_current_positions")
    assert (
        materialized[key("marts", "mv_current_positions")]["dagster/row_count"].value
        == cursor.fetchone()[0]
        > 0
    )
    assert "dagster/row_count" not in materialized[key("staging", "stg_trades")]  # a view
    assert "dagster/row_count" not in materialized[key("intermediate", "int_trade_pnl")]
    assert all(metadata["Execution Duration"].value >= 0 for metadata in materialized.values())

    found = evaluations(hourly)  # the suites are the raw tables', run with each hourly run
    suite_keys = {k for k in found if k.name == GX}
    # Every declared suite ran, on its relation's asset (a new entry in SUITES is tested here).
    manifest = load_manifest()
    assert {k.asset_key for k in suite_keys} == {
        asset_key(manifest, find_relation(manifest, relation)) for relation in SUITES
    }
    assert key("raw", "trades") in {k.asset_key for k in suite_keys}
    for check_key in suite_keys:
        evaluation = found[check_key]
        assert evaluation.passed, (check_key, evaluation.description)
        assert evaluation.metadata["expectations_failed"].value == 0
        relation = evaluation.metadata["relation"].value
        assert evaluation.metadata["expectations_evaluated"].value == len(
            SUITES[relation].expectations
        )
    assert found[dg.AssetCheckKey(HOURLY_LEVEL, FRESHNESS)].passed  # just built

    # Bad rows land in raw: 2% of trades priced above 1. The raw suite warns, and says how many.
    cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp)"
        " select 9000000 + n, position_id, action, quantity, 1.5, fees, execution_timestamp"
        " from (select *, row_number() over (order by trade_id) as n from raw.trades) as t"
        " where n <= 60"
    )
    # A landing table the warehouse lacks: its suite says so.
    cursor.execute("drop table raw.positions cascade")

    raw, missing = (
        dg.AssetCheckKey(key("raw", "trades"), GX),
        dg.AssetCheckKey(key("raw", "positions"), GX),
    )
    found = evaluate(defs, raw, missing)

    assert not found[raw].passed and found[raw].severity == WARN
    assert gx_failures(found[raw]) == {"column_values_to_be_between(price)": 60}
    assert found[raw].metadata["unexpected_rows"].value == 60
    assert "1 of 6 expectations failed" in found[raw].description

    assert not found[missing].passed and found[missing].severity == WARN
    assert "raw.positions does not exist" in found[missing].description


def let_time_pass(cursor, hours: int) -> None:
    """Everything that happened, landings and runs alike, happened `hours` earlier."""
    shift = f"- interval '{hours} hours'"
    cursor.execute(
        "select table_name from information_schema.columns"
        " where table_schema = 'raw' and column_name = 'loaded_at'"
    )
    for (table,) in cursor.fetchall():
        cursor.execute(f"update raw.{table} set loaded_at = loaded_at {shift}")
    cursor.execute(
        "update intermediate.int_position_changes set loaded_at = loaded_at"
        f" {shift}, captured_at = captured_at {shift}, complete_before = complete_before {shift}"
    )
    cursor.execute(
        f"update precog_meta.build_watermarks set captured_through = captured_through {shift}"
    )


def land_a_trade(cursor) -> None:
    cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp)"
        " select trade_id + 1000000, position_id, action, quantity, price, fees,"
        " execution_timestamp from raw.trades order by trade_id limit 1"
    )


def test_source_and_rollup_freshness(defs, cursor):
    simulator.simulate_history(trades=1000, seed=5, end=datetime(2026, 2, 1, tzinfo=UTC))
    assert run_job(defs, "hourly").success
    sources = [
        "ab_test_assignments",
        "edges",
        "markets",
        "model_predictions",
        "positions",
        "trades",
    ]

    def freshness() -> dict[str, tuple[bool, dg.AssetCheckSeverity | None]]:
        result = run_job(defs, "freshness_checks")
        assert result.success
        return {
            "/".join(k.asset_key.path): (e.passed, None if e.passed else e.severity)
            for k, e in evaluations(result).items()
        }

    rollup = "intermediate/int_pnl_hourly"
    everything = [*(f"raw/{table}" for table in sources), rollup]
    # The A/B results, which only the daily job computes, are missing: an error throughout.
    never_computed = {"marts/ab_test_results": (False, ERROR)}
    # Just landed and built.
    assert freshness() == {**dict.fromkeys(everything, (True, None)), **never_computed}

    # Three hours without anything landing: every source warns; the hourly level has nothing
    # left to process, so it is fresh.
    let_time_pass(cursor, 3)
    assert freshness() == {
        **{f"raw/{table}": (False, WARN) for table in sources},
        rollup: (True, None),
        **never_computed,
    }

    # A trade lands: its source is fresh again, and the hourly level has just a fresh row to do.
    land_a_trade(cursor)
    assert freshness()["raw/trades"] == (True, None)
    assert freshness()[rollup] == (True, None)

    # Three more hours, and the hourly job still has not run: the trade has waited 3 hours, the
    # other sources have been silent for more than 6.
    let_time_pass(cursor, 3)
    assert freshness() == {
        **{f"raw/{table}": (False, ERROR) for table in sources if table != "trades"},
        "raw/trades": (False, WARN),
        rollup: (False, WARN),
        **never_computed,
    }
    let_time_pass(cursor, 4)
    found = freshness()
    assert found["raw/trades"] == found[rollup] == (False, ERROR)

    # The hourly run processes it: the hourly level is fresh again (the source is still stale).
    hourly = run_job(defs, "hourly")
    assert hourly.success
    assert evaluations(hourly)[dg.AssetCheckKey(HOURLY_LEVEL, FRESHNESS)].passed
    assert freshness()[rollup] == (True, None)


def test_a_partitioned_run_validates_the_raw_rows_that_landed(warehouse, cursor):
    """A raw suite on a landing window sees the rows that landed in the window or since the
    capture before the last one the pipeline processed, and every copy of their trade_ids; the
    rows validated before are not read again."""

    start, end = datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert landed_condition(cursor, (start, end)) is None  # no change log: everything
    cursor.execute(
        "create table intermediate.int_position_changes (position_id bigint,"
        " loaded_at timestamptz, captured_at timestamptz, complete_before timestamptz);"
        "insert into intermediate.int_position_changes values"
        " (1, '2026-01-01 08:00+00', '2026-01-01 08:05+00', '2026-01-01 08:04+00'),"
        " (1, '2026-01-01 09:00+00', '2026-01-01 09:05+00', '2026-01-01 09:04+00');"
    )
    assert landed_condition(cursor, (start, end)) is None  # nothing processed yet: everything
    cursor.execute(
        "insert into precog_meta.build_watermarks values ('int_trade_pnl', '2026-01-01 09:05+00')"
    )
    cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp, loaded_at) values"
        " (1, 1, 'entry', 1, 1.5, 0, '2026-01-01 07:00+00', '2026-01-01 07:00+00'),"  # validated
        " (2, 1, 'entry', 1, 1.5, 0, '2026-01-01 08:30+00', '2026-01-01 08:30+00'),"  # since 08:04
        " (3, 1, 'entry', 1, 0.5, 0, '2026-01-01 07:00+00', '2026-01-01 07:00+00'),"  # copied...
        " (3, 1, 'entry', 1, 1.5, 0, '2026-01-01 10:30+00', '2026-01-01 10:30+00'),"  # ...in window
        " (4, 1, 'entry', 1, 0.5, 0, '2026-01-01 11:30+00', '2026-01-01 11:30+00')"  # since 08:04
    )
    where = LANDING_WINDOWS["raw.trades"].format(landed=landed_condition(cursor, (start, end)))
    rows = summarize(
        validate("raw.trades", SUITES["raw.trades"], warehouse.url("postgresql+psycopg2"), where)
    )
    found = {row["expectation"]: row.get("unexpected_count") for row in rows}
    assert "table_row_count_to_be_between" not in found  # left to a whole-table validation
    assert found["column_values_to_be_between(price)"] == 2  # trades 2 and 3 (its new copy)
    assert found["column_values_to_be_unique(trade_id)"] == 2  # both copies of trade 3
    # A catch-up run (`precog run`, no window): what landed since 08:04, trades 2, 3 and 4.
    since = LANDING_WINDOWS["raw.trades"].format(landed=landed_condition(cursor, None))
    rows = summarize(
        validate("raw.trades", SUITES["raw.trades"], warehouse.url("postgresql+psycopg2"), since)
    )
    found = {row["expectation"]: row.get("unexpected_count") for row in rows}
    assert found["column_values_to_be_between(price)"] == 2  # trades 2 and 3's new copy
    whole = summarize(
        validate("raw.trades", SUITES["raw.trades"], warehouse.url("postgresql+psycopg2"))
    )
    assert {row["expectation"]: row.get("unexpected_count") for row in whole}[
        "column_values_to_be_between(price)"
    ] == 3
