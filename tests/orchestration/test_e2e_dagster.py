"""End to end as an operator runs it: dagster-webserver and dagster-daemon as separate processes
on the project's instance (dagster.yaml, runs and events in PostgreSQL), a backfill over a range
of hourly partitions launched through the GraphQL API, the rows it produced, and the asset
graph as headless Chromium renders it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from precog import PROJECT_ROOT, reporting_timezone
from precog.bench.served import CHROMIUM
from precog.pipeline.dbt_runner import dbt_env
from precog.warehouse import database
from tests.helpers import needs_chromium, precog

BIN = Path(sys.executable).parent  # this environment's dagster-webserver and dagster-daemon

LOCATION = "precog_analytics"  # [tool.dagster] code_location_name in pyproject.toml
REPOSITORY = "__repository__"  # the repository a Definitions object becomes
# Three consecutive hourly partitions at the end of the simulated history (--end 2026-02-01).
PARTITIONS = ["2026-01-31-21:00", "2026-01-31-22:00", "2026-01-31-23:00"]
BACKFILL_TIMEOUT = 300  # seconds; the backfill daemon's first pass alone can take 30
HOURLY_ASSETS = ["int_position_changes", "int_trade_pnl", "int_position_pnl", "int_pnl_hourly"]


@dataclass
class Dagster:
    """The webserver and the daemon of one test, on 127.0.0.1:port."""

    port: int
    processes: dict[str, subprocess.Popen]
    logs: dict[str, Path]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url("/graphql"),
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def log_tails(self, chars: int = 5000) -> str:
        return "\n".join(
            f"----- {name} log (last {chars} characters) -----\n"
            + path.read_text(errors="replace")[-chars:]
            for name, path in self.logs.items()
        )

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float) -> Any:
        """Poll `check` until it returns something truthy; fail, with the logs, if a process
        exits or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(
                        f"{name} exited ({process.returncode}) while waiting for {what}\n"
                        + self.log_tails()
                    )
            try:
                result = check()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {timeout} s\n" + self.log_tails())
            time.sleep(0.5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)  # the process group it leads: itself and its children


def _stop(processes: list[subprocess.Popen]) -> None:
    """Stop processes and everything they started: TERM to all, then KILL what remains of
    their process groups (a code server, a run worker)."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
    for process in processes:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)


def _server_info(dagster: Dagster) -> dict[str, str]:
    with urllib.request.urlopen(dagster.url("/server_info"), timeout=5) as response:
        return json.load(response)


def _location_loaded(dagster: Dagster) -> bool:
    data = dagster.graphql(
        "{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus"
        " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    )
    entries = {entry["name"]: entry for entry in data["workspaceOrError"]["locationEntries"]}
    entry = entries.get(LOCATION)
    if entry is None or entry["loadStatus"] != "LOADED":
        return False
    loaded = entry["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", f"code location failed to load: {loaded}"
    return True


def _backfill_daemon_healthy(dagster: Dagster) -> bool:
    data = dagster.graphql(
        "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"
    )
    statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
    return any(s["daemonType"] == "BACKFILL" and s["healthy"] for s in statuses)


@pytest.fixture
def dagster(warehouse, tmp_path) -> Iterator[Dagster]:
    """dagster-webserver, then dagster-daemon, started as an operator would in the project root
    with the warehouse's environment; both stopped (process groups) whatever happens, their logs
    printed (pytest shows them when the test fails)."""
    # A desk live since January: the partitions backfilled (2026-01-31) are among its windows.
    env = {**dbt_env(warehouse), **warehouse.dagster_env(), "PRECOG_PARTITIONS_START": "2026-01-01"}
    database.ensure_database(warehouse, warehouse.dagster_dbname)
    dagster = Dagster(port=_free_port(), processes={}, logs={})

    def start(name: str, *command: str) -> None:
        dagster.logs[name] = tmp_path / f"{name}.log"
        with dagster.logs[name].open("w") as log:
            dagster.processes[name] = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,  # pyproject.toml's [tool.dagster] names the code location
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, with the code servers it starts
            )

    try:
        started = time.monotonic()
        # The webserver first: it creates Dagster's tables, which two processes starting at once
        # would race to create.
        start(
            "webserver", str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(dagster.port)
        )
        dagster.wait_for("webserver /server_info", lambda: _server_info(dagster), timeout=90)
        dagster.wait_for("code location", lambda: _location_loaded(dagster), timeout=90)
        print(f"webserver up, code location loaded in {time.monotonic() - started:.1f} s")
        start("daemon", str(BIN / "dagster-daemon"), "run")
        dagster.wait_for("healthy backfill daemon", lambda: _backfill_daemon_healthy(dagster), 90)
        print(f"daemon healthy {time.monotonic() - started:.1f} s after starting")
        yield dagster
    finally:
        stopping = time.monotonic()
        _stop(list(dagster.processes.values()))
        print(f"stopped in {time.monotonic() - stopping:.1f} s")
        print(dagster.log_tails())


LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionSetNotFoundError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}
"""

BACKFILL_STATUS = """
query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      numPartitions
      error { message stack }
      runs { runId status jobName tags { key value } }
    }
    ... on PythonError { message }
  }
}
"""

DONE = {"COMPLETED", "COMPLETED_SUCCESS"}
FAILED = {"FAILED", "COMPLETED_FAILED", "CANCELED", "CANCELING", "FAILING"}


def _launch_and_wait(dagster: Dagster) -> tuple[str, dict[str, Any]]:
    launched = dagster.graphql(
        LAUNCH_BACKFILL,
        {
            "params": {
                "selector": {
                    "partitionSetName": "hourly_partition_set",
                    "repositorySelector": {
                        "repositoryName": REPOSITORY,
                        "repositoryLocationName": LOCATION,
                    },
                },
                "partitionNames": PARTITIONS,
                "title": "e2e test backfill",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished() -> dict[str, Any] | None:
        backfill = dagster.graphql(BACKFILL_STATUS, {"id": backfill_id})
        backfill = backfill["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        if backfill["status"] in FAILED:
            pytest.fail(f"backfill {backfill_id}: {json.dumps(backfill)}\n" + dagster.log_tails())
        return backfill if backfill["status"] in DONE else None

    started = time.monotonic()
    backfill = dagster.wait_for(f"finished backfill {backfill_id}", finished, BACKFILL_TIMEOUT)
    print(f"backfill {backfill_id} succeeded in {time.monotonic() - started:.1f} s")
    return backfill_id, backfill


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def _chromium(url: str, profile: Path, *action: str) -> subprocess.Popen:
    # The UI shows its community sign-up dialog to origins on 127.0.0.1 and localhost only:
    # reaching the webserver under another name (resolved by Chromium to 127.0.0.1) keeps the
    # screenshot free of it without writing anything to DAGSTER_HOME (the project).
    page = url.replace("127.0.0.1", "precog-dagster.test", 1)
    return subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP precog-dagster.test 127.0.0.1",
            "--window-size=1600,1000",
            "--virtual-time-budget=20000",
            *action,
            page,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, with its renderer and GPU processes
    )


def test_backfill_through_webserver_and_daemon(warehouse, cursor, dagster, tmp_path):
    precog(warehouse, "simulate", "--trades", "3000", "--seed", "3", "--end", "2026-02-01")

    backfill_id, backfill = _launch_and_wait(dagster)

    # One run for the whole range (BackfillPolicy.single_run): one dbt invocation.
    assert backfill["numPartitions"] == len(PARTITIONS)
    assert len(backfill["runs"]) == 1, backfill["runs"]
    run = backfill["runs"][0]
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert (run["status"], run["jobName"]) == ("SUCCESS", "hourly")
    assert tags["dagster/backfill"] == backfill_id
    assert tags["dagster/asset_partition_range_start"] == PARTITIONS[0]
    assert tags["dagster/asset_partition_range_end"] == PARTITIONS[-1]

    # The rows: the first run builds the whole history, whatever its window. Staging holds every
    # landed trade except those quarantined ...
    cursor.execute("select count(*) from raw.trades")
    landed = cursor.fetchone()[0]
    cursor.execute("select count(*) from staging.quarantine where source_table = 'trades'")
    quarantined = cursor.fetchone()[0]
    cursor.execute("select count(*) from staging.stg_trades")
    assert cursor.fetchone()[0] == landed - quarantined > 2500
    # ... trade P&L one row per staged trade ...
    cursor.execute(
        "select count(*) from staging.stg_trades as s"
        " full join intermediate.int_trade_pnl as t using (trade_id)"
        " where s.trade_id is null or t.trade_id is null"
    )
    assert cursor.fetchone()[0] == 0
    # ... and the hourly level counts, hour by hour, exactly the valid trades of raw, and adds
    # up to the trades' realized P&L.
    zone = reporting_timezone()
    cursor.execute(
        "select date_trunc('hour', execution_timestamp, %s), count(*) from raw.trades"
        " where trade_id::text not in"
        "  (select record_key from staging.quarantine where source_table = 'trades')"
        " group by 1",
        (zone,),
    )
    direct = dict(cursor.fetchall())
    cursor.execute(
        "select period_start, sum(total_trades) from intermediate.int_pnl_hourly group by 1"
    )
    assert dict(cursor.fetchall()) == direct
    cursor.execute(
        "select (select sum(net_pnl) from intermediate.int_pnl_hourly),"
        " (select coalesce(sum(realized_pnl), 0) from intermediate.int_trade_pnl)"
    )
    rolled_up, realized = cursor.fetchone()
    assert rolled_up == realized
    # The backfilled hours themselves have trades in the simulated history.
    cursor.execute(
        "select count(*) from intermediate.int_pnl_hourly"
        " where period_start >= '2026-01-31 21:00+00' and period_start < '2026-02-01 00:00+00'"
    )
    assert cursor.fetchone()[0] > 0

    # Dagster's PostgreSQL storage, database <warehouse>_dagster, has the backfill, its run and a
    # materialization of every hourly asset for every partition of the range.
    storage = database.connect(warehouse, dbname=warehouse.dagster_dbname)
    try:
        with storage.cursor() as dagster_db:
            dagster_db.execute("select status from bulk_actions where key = %s", (backfill_id,))
            assert dagster_db.fetchone()[0] in DONE
            dagster_db.execute(
                "select run_id, status, pipeline_name from runs"
                " where run_id in (select run_id from run_tags"
                "  where key = 'dagster/backfill' and value = %s)",
                (backfill_id,),
            )
            assert dagster_db.fetchall() == [(run["runId"], "SUCCESS", "hourly")]
            dagster_db.execute(
                "select asset_key, partition from event_logs"
                " where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
                (run["runId"],),
            )
            materialized = {(json.loads(key)[-1], partition) for key, partition in dagster_db}
    finally:
        storage.close()
    expected = {(asset, partition) for asset in HOURLY_ASSETS for partition in PARTITIONS}
    assert expected <= materialized, sorted(expected - materialized)

    # The asset graph in a browser: the lineage of the hourly level, after the backfill. The
    # screenshot shows its nearest neighbours; the names are read from its upstream and downstream
    # views apart, as a graph zoomed out to fit draws its nodes with shortened names.
    needs_chromium("backfill checked; asset graph screenshot not: ")
    page = dagster.url("/assets/intermediate/int_pnl_hourly?view=lineage")
    screenshot = tmp_path / "asset-graph.png"
    named = {
        "upstream": ["int_pnl_hourly", "int_trade_pnl", "int_position_changes"],
        "downstream": ["int_pnl_daily", "performance_tracking"],
    }
    started = time.monotonic()
    browsers = [_chromium(page, tmp_path / "chromium-shot", f"--screenshot={screenshot}")] + [
        _chromium(f"{page}&lineageScope={scope}", tmp_path / f"chromium-{scope}", "--dump-dom")
        for scope in named
    ]
    try:
        (_, shot_err), *doms = (browser.communicate(timeout=120) for browser in browsers)
    finally:
        _stop(browsers)
    print(f"chromium: {time.monotonic() - started:.1f} s")
    assert browsers[0].returncode == 0 and screenshot.exists(), shot_err[-3000:]
    for browser, (dom, err), assets in zip(browsers[1:], doms, named.values(), strict=True):
        assert browser.returncode == 0, err[-3000:]
        for asset in assets:
            assert f">{asset}<" in dom, f"{asset} not on the page\n{dom[-3000:]}"
    assert _png_size(screenshot) == (1600, 1000)
    assert screenshot.stat().st_size > 30_000  # a rendered graph, not a blank page
