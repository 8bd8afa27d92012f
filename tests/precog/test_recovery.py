"""Failure is a normal path. A `precog run` killed mid-build leaves no process behind and does not
block the next run, which fails it, frees its pool slot, recovers by itself and equals a full
refresh; so does a run whose database was killed under it. A run with nothing new changes
nothing. (Rebuilds owed to a replaced raw or another zone: test_rebuilds.py.)

Each fault is bounded in time: a run that hangs fails the test instead of the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest
from dagster._core.launcher import WorkerStatus

from orchestration import run_health
from precog.pipeline.dbt_runner import dbt_env
from precog.warehouse import database, embedded
from tests.helpers import (
    RUN_TIMEOUT,
    assert_equals_a_full_refresh,
    assert_levels_equal_direct_computation,
    precog_command,
    run_precog,
    snapshot,
)

END = "2026-02-01"


def start_run(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            precog_command("run"), env=env, stdout=output, stderr=subprocess.STDOUT
        )


def wait_for_dbt_build(
    cli: subprocess.Popen, log: Path, timeout: float = 300
) -> list[psutil.Process]:
    """The dbt processes `precog run` started, once a `dbt build` is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert cli.poll() is None, f"precog run ended before dbt started: {log.read_text()[-2000:]}"
        children = psutil.Process(cli.pid).children(recursive=True)
        try:
            if any("build" in child.cmdline() for child in children):
                return children
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no dbt build within {timeout} s")


def dagster_runs(target: database.Warehouse) -> dict[str, str]:
    connection = database.connect(target, dbname=target.dagster_dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select run_id, status from runs")
            return dict(cursor.fetchall())
    finally:
        connection.close()


def slots_held(target: database.Warehouse) -> set[str]:
    connection = database.connect(target, dbname=target.dagster_dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select run_id from concurrency_slots where run_id is not null")
            return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


def test_a_killed_run_is_failed_and_the_next_run_recovers(warehouse, tmp_path, monkeypatch):
    # Through Dagster in a zone with daylight saving time (hourly and daily partitions in it).
    monkeypatch.setenv("PRECOG_REPORTING_TIMEZONE", "America/New_York")
    env = dbt_env(warehouse)
    run_precog(env, "simulate", "--trades", "1500", "--seed", "4", "--end", END)

    cli = start_run(env, tmp_path / "killed.log")
    dbt = wait_for_dbt_build(cli, tmp_path / "killed.log")
    time.sleep(3)  # dbt is writing to the warehouse
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait()
    started = time.monotonic()
    _, alive = psutil.wait_procs(dbt, timeout=15)
    assert not alive, f"dbt outlived precog run: {[p.pid for p in alive]}"
    print(f"dbt gone {time.monotonic() - started:.2f} s after the kill")

    stuck = [run for run, status in dagster_runs(warehouse).items() if status == "STARTED"]
    assert len(stuck) == 1 and stuck[0] in slots_held(warehouse)
    # The daemon's run monitoring would see the same through the project's launcher.
    for name, value in warehouse.dagster_env().items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_launcher, run_health.RunLauncher)
        health = instance.run_launcher.check_run_worker_health(instance.get_run_by_id(stuck[0]))
        assert health.status == WorkerStatus.FAILED and "is gone" in health.msg

    started = time.monotonic()
    printed = run_precog(env, "run")
    print(f"recovery run: {time.monotonic() - started:.1f} s")
    assert f"failed run {stuck[0]}" in printed
    assert dagster_runs(warehouse)[stuck[0]] == "FAILURE"
    assert stuck[0] not in slots_held(warehouse)
    assert_equals_a_full_refresh(warehouse, tmp_path)
    with database.transaction(warehouse) as cursor:
        assert_levels_equal_direct_computation(
            cursor, "America/New_York", warehouse, tmp_path / "exact"
        )

    # Nothing new: the next run does nothing and changes nothing.
    connection = database.connect(warehouse)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("select count(*) from intermediate.int_position_changes")
        log_before = cursor.fetchone()[0]
        before = snapshot(cursor)
        runs_before = len(dagster_runs(warehouse))
        assert "nothing new" in run_precog(env, "run")
        cursor.execute("select count(*) from intermediate.int_position_changes")
        assert cursor.fetchone()[0] == log_before
        assert snapshot(cursor) == before
        assert len(dagster_runs(warehouse)) == runs_before
    connection.close()


@pytest.mark.skipif(database.is_external(), reason="kills the server: needs a private one")
def test_a_database_killed_mid_run_gives_one_line_and_the_next_run_recovers(tmp_path, monkeypatch):
    # A private embedded server of its own, in the test's folder.
    for key in [key for key in os.environ if key.startswith(("PG", "DAGSTER_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PRECOG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PGDATABASE", "precog")
    env = dict(os.environ)
    run_precog(env, "simulate", "--trades", "1500", "--seed", "4", "--end", END)

    cli = start_run(env, tmp_path / "killed.log")
    wait_for_dbt_build(cli, tmp_path / "killed.log")
    time.sleep(3)
    postmaster = int((tmp_path / "data" / "pgdata" / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    started = time.monotonic()
    cli.wait(timeout=RUN_TIMEOUT)
    print(f"precog run ended {time.monotonic() - started:.1f} s after the database died")
    errors = [
        line
        for line in (tmp_path / "killed.log").read_text().splitlines()
        if line.startswith("precog: error:")
    ]
    assert cli.returncode == 1 and len(errors) == 1, errors
    assert "run `precog run` again" in errors[0]

    started = time.monotonic()
    printed = run_precog(env, "run")
    print(f"recovery run: {time.monotonic() - started:.1f} s")
    assert "failed run" in printed
    try:
        target = database.warehouse(start=False)
        assert "STARTED" not in dagster_runs(target).values()
        assert_equals_a_full_refresh(target, tmp_path)
    finally:
        embedded.stop()
