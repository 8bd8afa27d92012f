"""Run the whole pipeline once, in process, through the Dagster definitions (`precog run`):
the hourly job, then the daily job, each catching up on everything that landed since its
previous run (no landing window of its own: a window is for backfills).

Before it starts, a run fails the runs whose process was killed and frees their pool slots
(orchestration/run_health.py). A run with nothing new is skipped: nothing landed in `raw` since
the last successful run began, no raw table was replaced, and the project is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import dagster as dg
from psycopg2 import sql

from orchestration import run_health
from orchestration.defs.dbt.partitions import (
    CATCH_UP_TAG,
    FULL_REFRESH_TAG,
    reporting_timezone,
)
from precog import PROJECT_ROOT
from precog.dbt_runner import prepare_manifest
from precog.warehouse import database
from precog.warehouse.database import RAW_TABLES

# The raw tables a row can land in alone (trade_import_lines always lands with its trade).
LANDING_TABLES = [table for table in RAW_TABLES if table != "trade_import_lines"]
# What the pipeline's results depend on besides raw (project_checksum).
PROJECT_FOLDERS = ("models", "macros", "tests/dbt", "seeds", "orchestration", "precog/stats")
JOBS = ["hourly", "daily"]


@dataclass(frozen=True)
class RunOutcome:
    ran: bool
    success: bool
    failed_orphans: list[str]
    reason: str = ""


@dataclass(frozen=True)
class WarehouseState:
    """What a run processes: every raw row landed before `complete_before` (the start of the
    oldest transaction then open, as the change log's watermark), the raw tables' files, and
    the project's checksum."""

    complete_before: object
    raw_files: dict[str, int]
    project_checksum: str


def project_checksum() -> str:
    """The project's code (the dbt project and the Python that builds assets) and the reporting
    time zone: a change to any of them makes the next run run. Read from the files, so a run
    with nothing new needs no dbt parse."""
    digest = hashlib.sha256(reporting_timezone().encode())
    for folder in PROJECT_FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    digest.update((PROJECT_ROOT / "dbt_project.yml").read_bytes())
    return digest.hexdigest()


def current_state(cursor) -> WarehouseState:
    cursor.execute(
        "select coalesce(min(xact_start), statement_timestamp()) from pg_stat_activity"
        " where backend_type = 'client backend' and pid <> pg_backend_pid()"
    )
    complete_before = cursor.fetchone()[0]
    cursor.execute(
        "select relname, pg_relation_filenode(oid) from pg_class"
        " where relnamespace = 'raw'::regnamespace and relname = any(%s)",
        (list(RAW_TABLES),),
    )
    return WarehouseState(complete_before, dict(cursor.fetchall()), project_checksum())


def nothing_new(cursor, state: WarehouseState) -> bool:
    """Whether the last successful run saw everything `state` holds."""
    cursor.execute(
        "select complete_before, raw_files, project_checksum from precog_meta.last_complete_run"
    )
    last = cursor.fetchone()
    if last is None or last[1] != state.raw_files or last[2] != state.project_checksum:
        return False
    landed = sql.SQL(" union all ").join(
        sql.SQL("(select 1 from raw.{} where loaded_at >= %(since)s limit 1)").format(
            sql.Identifier(table)
        )
        for table in LANDING_TABLES
    )
    cursor.execute(sql.SQL("select exists ({})").format(landed), {"since": last[0]})
    return not cursor.fetchone()[0]


def record_success(cursor, state: WarehouseState) -> None:
    cursor.execute(
        "insert into precog_meta.last_complete_run"
        " (complete_before, raw_files, project_checksum) values (%s, %s, %s)"
        " on conflict (id) do update set complete_before = excluded.complete_before,"
        " raw_files = excluded.raw_files, project_checksum = excluded.project_checksum,"
        " finished_at = now()",
        (state.complete_before, json.dumps(state.raw_files), state.project_checksum),
    )


def forget_last_run(cursor) -> None:
    """The next run must run, whatever happens to this one (killed, failed)."""
    cursor.execute("delete from precog_meta.last_complete_run")


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """Where a failed run first failed, and why, in one line."""
    from orchestration.defs.checks.run_failures import step_error

    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            return f"failed in step {event.step_key}: {step_error(event)}"
    return "failed (no step failed: see the log above)"


def run(full_refresh: bool = False) -> RunOutcome:
    target = database.warehouse()
    # The project's instance (dagster.yaml in DAGSTER_HOME): runs show in the UI's history.
    with dg.DagsterInstance.get() as instance:
        orphans = run_health.fail_orphaned_runs(instance)
        with database.transaction(target) as cursor:
            state = current_state(cursor)
            if not full_refresh and nothing_new(cursor, state):
                return RunOutcome(False, True, orphans, "nothing new since the last run")
            forget_last_run(cursor)
        prepare_manifest()
        from orchestration.definitions import defs

        definitions = defs()  # loads the manifest just parsed
        for name in JOBS:
            job = definitions.resolve_job_def(name)
            # What the run processes is its tags' business (RunScope): every step of the job
            # reads them, the dbt steps and the suites alike.
            scope = {CATCH_UP_TAG: "true", **({FULL_REFRESH_TAG: "true"} if full_refresh else {})}
            result = job.execute_in_process(
                instance=instance,
                partition_key=job.partitions_def.get_last_partition_key(),
                tags={**run_health.worker_tags(), **scope},
                raise_on_error=False,
            )
            if not result.success:
                return RunOutcome(True, False, orphans, f"the {name} job {first_failure(result)}")
    with database.transaction(target) as cursor:
        record_success(cursor, state)
    return RunOutcome(True, True, orphans)
