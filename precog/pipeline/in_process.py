"""Run the whole pipeline once, in process, through the Dagster definitions (`precog run`):
the hourly job, then the daily job, each catching up on everything that landed since its
previous run (no landing window of its own: a window is for backfills).

A run with nothing new is skipped, from the bookkeeping alone (no Dagster import): nothing
landed in `raw` since the last successful run began, no raw table was replaced, and the project
is unchanged. Otherwise, before its jobs start, a run fails the runs whose process was killed and
frees their pool slots (orchestration/run_health.py), and it checks every row unless the last
run succeeded with the same project and raw tables (tag precog/validate_everything).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from precog import PROJECT_ROOT, reporting_timezone
from precog.pipeline.dbt_runner import prepare_manifest
from precog.warehouse import bookkeeping, database, embedded

if TYPE_CHECKING:  # Dagster is imported only by a run that runs: a skip costs no imports
    import dagster as dg

# What the pipeline's results depend on besides raw (project_checksum).
PROJECT_FOLDERS = ("models", "macros", "tests/dbt", "seeds", "orchestration", "precog")


@dataclass(frozen=True)
class RunOutcome:
    ran: bool
    success: bool
    failed_orphans: list[str]
    reason: str = ""
    dbt_log: Path | None = None  # every line dbt printed, kept out of the console


def dbt_log_path() -> Path:
    """Where a run's dbt output goes (beside the embedded server's data, git-ignored)."""
    folder = embedded.data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"


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


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """Where a failed run first failed, and why, in one line."""
    import dagster as dg

    from orchestration.defs.checks.run_failures import step_error

    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            return f"failed in step {event.step_key}: {step_error(event)}"
    return "failed (no step failed: see the log above)"


def dagster_instance(target: database.Warehouse) -> dg.DagsterInstance:
    """The project's Dagster instance (dagster.yaml, the project root as DAGSTER_HOME) on the
    warehouse's server, given its settings directly rather than through the environment: runs
    show in the UI's history of the same instance."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    settings = target.dagster_env()
    overrides = {
        "storage": {"postgres": {"postgres_url": settings["DAGSTER_POSTGRES_URL"]}},
        "local_artifact_storage": {
            "module": "dagster._core.storage.root",
            "class": "LocalArtifactStorage",
            "config": {"base_dir": settings["DAGSTER_ARTIFACTS_DIR"]},
        },
        "compute_logs": {
            "module": "dagster._core.storage.local_compute_log_manager",
            "class": "LocalComputeLogManager",
            "config": {"base_dir": settings["DAGSTER_COMPUTE_LOGS_DIR"]},
        },
    }
    instance = dg.DagsterInstance.from_ref(
        InstanceRef.from_dir(settings["DAGSTER_HOME"], overrides=overrides)
    )
    # Storage keeps its connections open for the command's life: by default every event a run
    # stores opens a new one (about 5,600 connections and 14 s of a run at 2k trades). No
    # statement timeout: a run's writes wait on its own locks only.
    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
    # A run over a range of partitions stores a materialization per partition and asset: in
    # batches, as Dagster's single-run backfills can (a week of hourly windows: 4,000 events).
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")
    return instance


def run(full_refresh: bool = False, verbose: bool = False) -> RunOutcome:
    target = database.warehouse()
    with database.transaction(target) as cursor:
        state = bookkeeping.current_state(cursor, project_checksum())
        if not full_refresh and bookkeeping.nothing_new(cursor, state):
            # A killed `precog run` forgot the last run first, so it is never skipped over; the
            # runs of the UI's and the daemon's, the daemon's run monitoring fails.
            return RunOutcome(False, True, [], "nothing new since the last run")
        validate_everything = not bookkeeping.validated_before(cursor, state)
        bookkeeping.forget_last_run(cursor)
    from orchestration import run_health

    with dagster_instance(target) as instance:
        orphans = run_health.fail_orphaned_runs(instance)
        prepare_manifest()
        from orchestration.definitions import defs
        from orchestration.defs.dbt.schedules import JOBS

        definitions = defs()  # loads the manifest just parsed
        level = "DEBUG" if verbose else "INFO"
        # dbt's hundreds of lines (dagster-dbt echoes them on stdout) go to a log file; the
        # console keeps Dagster's info events and the summary. --verbose shows everything.
        log = None if verbose else dbt_log_path()
        with contextlib.ExitStack() as quiet:
            if log is not None:
                quiet.enter_context(contextlib.redirect_stdout(quiet.enter_context(log.open("w"))))
            for name in JOBS:
                result = run_job(
                    definitions, name, full_refresh, validate_everything, level, instance
                )
                if not result.success:
                    failure = f"the {name} job {first_failure(result)}"
                    return RunOutcome(True, False, orphans, failure, log)
    with database.transaction(target) as cursor:
        bookkeeping.record_success(cursor, state)
    return RunOutcome(True, True, orphans, dbt_log=log)


def repository_label() -> str:
    """The label the UI files a job's runs under: the code location's repository (a Definitions
    object's is `__repository__`) at its location name (pyproject.toml). Runs launched in the UI
    carry it; `precog run`'s, executed in process, are given it, so they show under their jobs
    and on the Overview timeline too, not only under Runs."""
    from dagster._core.definitions.repository_definition.valid_definitions import (
        SINGLETON_REPOSITORY_NAME,
    )

    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    return f"{SINGLETON_REPOSITORY_NAME}@{config['tool']['dagster']['code_location_name']}"


def run_job(
    definitions, name: str, full_refresh: bool, validate_everything: bool, level: str, instance
):
    """One job, in process, catching up on everything that landed since its previous run, over
    the partitions since that run's: they show as done in the UI."""
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
        REPOSITORY_LABEL_TAG,
    )

    from orchestration import run_health
    from orchestration.defs.dbt.partitions import (
        CATCH_UP_TAG,
        FULL_REFRESH_TAG,
        VALIDATE_EVERYTHING_TAG,
        catch_up_range,
    )

    job = definitions.resolve_job_def(name)
    first, last = catch_up_range(job.partitions_def, previous_end(instance, job))
    # What the run processes is its tags' business (RunScope): every step of the job reads
    # them, the dbt steps and the suites alike.
    scope = {
        CATCH_UP_TAG: "true",
        **({FULL_REFRESH_TAG: "true"} if full_refresh else {}),
        **({VALIDATE_EVERYTHING_TAG: "true"} if validate_everything else {}),
    }
    return job.execute_in_process(
        # Info and up on the console: a run's debug events are hundreds of lines.
        run_config={"loggers": {"console": {"config": {"log_level": level}}}},
        instance=instance,
        tags={
            **run_health.worker_tags(),
            **scope,
            REPOSITORY_LABEL_TAG: repository_label(),
            ASSET_PARTITION_RANGE_START_TAG: first,
            ASSET_PARTITION_RANGE_END_TAG: last,
        },
        raise_on_error=False,
    )


def previous_end(instance, job) -> datetime | None:
    """The end of the last partition the job's last successful run covered (a schedule's one
    partition, or a range), if it is still one of the job's."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, PARTITION_NAME_TAG

    runs = instance.get_runs(
        dg.RunsFilter(job_name=job.name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1
    )
    if not runs:
        return None
    key = runs[0].tags.get(ASSET_PARTITION_RANGE_END_TAG) or runs[0].tags.get(PARTITION_NAME_TAG)
    if key is None or not job.partitions_def.has_partition_key(key):
        return None
    return job.partitions_def.time_window_for_partition_key(key).end
