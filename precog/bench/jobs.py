"""The jobs a user waits for, end to end: `precog run` in a process of its own, as a user runs
it, on the bench's database; and each Dagster job it ran, from the instance's records (the run
start to end, its slowest steps, and the seconds dbt reports for each model).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from precog.pipeline import in_process
from precog.warehouse import database

# The slowest steps of a job, kept for the report: where its time goes.
SLOWEST_STEPS = 4


@dataclass
class JobRun:
    name: str
    seconds: float  # the Dagster run, start to end
    steps: list[tuple[str, float]]  # its slowest steps, seconds each
    models: dict[str, float] = field(default_factory=dict)  # dbt's seconds, by asset key


@dataclass
class PipelineRun:
    seconds: float  # the command, end to end: what the user waits for
    ran: bool  # False when it found nothing new
    jobs: list[JobRun]

    def job(self, name: str) -> JobRun:
        return next(job for job in self.jobs if job.name == name)

    def models_seconds(self, keys: list[str]) -> float:
        """dbt's seconds for the models `keys` ("schema/relation"), over the run's jobs."""
        return sum(job.models.get(key, 0.0) for job in self.jobs for key in keys)


def precog_run(target: database.Warehouse) -> PipelineRun:
    """`precog run` on `target`, timed from outside; the Dagster runs it started."""
    earlier = run_ids(target)
    began = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "precog.cli", "run"],
        env={**os.environ, **target.libpq_env()},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - began
    if completed.returncode != 0:
        raise RuntimeError(f"precog run failed:\n{completed.stderr[-3000:]}")
    ran = "nothing to do" not in completed.stdout
    return PipelineRun(seconds, ran, job_runs(target, earlier) if ran else [])


def run_ids(target: database.Warehouse) -> set[str]:
    """The runs the instance holds (the server's clock and ours may differ: ids, not times)."""
    database.ensure_database(target, target.dagster_dbname)  # as `precog run` does
    with in_process.dagster_instance(target) as instance:
        return set(instance.get_run_ids())


def job_runs(target: database.Warehouse, earlier: set[str]) -> list[JobRun]:
    """The Dagster runs not in `earlier`, oldest first."""
    jobs = []
    with in_process.dagster_instance(target) as instance:
        runs = [run for run in instance.get_runs() if run.run_id not in earlier]
        for run in reversed(runs):
            stats = instance.get_run_stats(run.run_id)
            steps = sorted(
                (
                    (step.step_key, step.end_time - step.start_time)
                    for step in instance.get_run_step_stats(run.run_id)
                    if step.start_time and step.end_time
                ),
                key=lambda step: -step[1],
            )
            jobs.append(
                JobRun(
                    run.job_name,
                    stats.end_time - stats.start_time,
                    steps[:SLOWEST_STEPS],
                    model_seconds(instance, run.run_id),
                )
            )
    return jobs


def model_seconds(instance, run_id: str) -> dict[str, float]:
    """dbt's execution seconds of each model the run materialized (dagster-dbt's metadata
    `Execution Duration`; a run over a range of partitions repeats it for each partition)."""
    import dagster as dg

    seconds = {}
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1_000_000
    ).records
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        duration = materialization.metadata.get("Execution Duration")
        if duration is not None:
            seconds["/".join(materialization.asset_key.path)] = float(duration.value)
    return seconds
