"""Runs whose worker process is gone: found, failed and their pool slots freed, so that a killed
run never blocks the next one (`Step blocked by limit for pool dbt`).

Two callers apply the same rule: `precog run`, before it starts a run, and the daemon's run
monitoring, through `RunLauncher` (dagster.yaml), for runs the UI or a schedule launched.

A run's worker is the process that executes it: the pid `precog run` tags its runs with, else
the pid Dagster records in the run's first engine event ("Started process for run", or
"Executing steps in process"). It is gone when no such process exists, or when the process with
that pid started after the run did (the pid was reused). Runs are judged on the machine that
executes them: untagged runs (launched by the daemon) are taken to run on this one, as in every
set-up the README describes.
"""

from __future__ import annotations

import os
import socket

import dagster as dg
import psutil
from dagster._core.events import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

PID_TAG = "precog/pid"
HOST_TAG = "precog/host"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def worker_tags() -> dict[str, str]:
    """Tags naming this process as the run's worker (for runs executed in process)."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    if PID_TAG in run.tags:
        return int(run.tags[PID_TAG])
    records = instance.get_records_for_run(
        run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=20
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.engine_event_data if event is not None else None
        pid = data.metadata.get("pid") if data is not None else None
        if pid is not None:
            return int(pid.value)
    return None


def worker_is_gone(instance: dg.DagsterInstance, record: dg.RunRecord) -> str | None:
    """Why the run's worker is known to be gone, or None (alive, elsewhere, or not known)."""
    run = record.dagster_run
    if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
        return None  # another machine's process: not ours to judge
    pid = worker_pid(instance, run)
    # A run not started yet (queued, or its worker still coming up) is not judged here: run
    # monitoring's start timeout covers it. A worker starts before its run does.
    started = record.start_time
    if pid is None or started is None:
        return None
    try:
        process = psutil.Process(pid)
        if process.create_time() <= started + 1 and process.status() != psutil.STATUS_ZOMBIE:
            return None
    except psutil.NoSuchProcess:
        pass
    return f"its worker process (pid {pid}) is gone: it was killed or crashed"


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail every in-progress run whose worker is gone and free its pool slots; their ids."""
    failed = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=IN_PROGRESS)):
        reason = worker_is_gone(instance, record)
        if reason is None:
            continue
        run = record.dagster_run
        instance.report_run_failed(run, f"Run {run.run_id} failed: {reason}.")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


class RunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, with the worker health check its run monitoring needs: the
    daemon fails a run whose worker is gone (and frees its slots after the run ends)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        record = self._instance.get_run_record_by_id(run.run_id)
        reason = None if record is None else worker_is_gone(self._instance, record)
        if reason is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        self._instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        return CheckRunHealthResult(WorkerStatus.FAILED, reason)
