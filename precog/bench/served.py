"""The dashboard as its users meet it: `precog dashboard` started on a built desk, its API timed
per endpoint, the page timed in Chromium from navigation to every panel drawn, and trades
landed while 50 pages listen, timed from commit to the browser, counting the reads of the live
panels per landing (one, however many pages)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from precog.pipeline.dbt_runner import dbt_env
from precog.warehouse import database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# What a page shows once every panel has drawn (precog/dashboard/layout.py), data or empty state.
PANELS_DRAWN = (
    "#pnl-chart .main-svg",
    "#positions-table, #positions-table-empty",
    "#strategy-table, #strategy-table-empty",
    "#calibration-chart .main-svg",
    "#accuracy-table, #accuracy-table-empty",
    "#edge-capture-table, #edge-capture-table-empty",
    "#markets-table, #markets-table-empty",
    "#ab-results h4, #ab-empty",
)
FLOOR_DRAWN = ("#floor",)
LIVE_TIMEOUT = 10  # seconds a landing may take to show on the open page
ENDPOINTS = [
    "/api/performance/daily?days=30",
    "/api/positions/current",
    "/api/strategies/comparison?strategy_name=value_hunter",
    "/api/models/accuracy",
    "/api/models/1/calibration",
    "/api/models/edge-capture",
    "/api/markets/overview?limit=50",
    "/api/experiments/results",
]


class DashboardServer:
    """`precog dashboard` on a free port of 127.0.0.1, for the desk in `target`."""

    def __init__(self, target: database.Warehouse, log: Path, as_of: str | None = None):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._log_path, self._log = log, log.open("w")
        command = [sys.executable, "-m", "precog.cli", "dashboard", "--port", str(self.port)]
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command + (["--as-of", as_of] if as_of else []),
            env=dbt_env(target),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180  # it compiles the panels' queries with dbt first
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dashboard exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if self.get("/api/filters")[0] == 200:
                    self.start_seconds = time.perf_counter() - started
                    return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the dashboard did not answer: {log.read_text()[-3000:]}")

    def get(self, path: str) -> tuple[int, object]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as response:
                body, status = response.read(), response.status
        except urllib.error.HTTPError as error:
            body, status = error.read(), error.code
        return status, json.loads(body) if body[:1] in (b"[", b"{") else body.decode()

    def metric(self, name: str) -> float:
        """A metric's value from GET /metrics (one without labels)."""
        text = self.get("/metrics")[1]
        found = re.search(rf"^{name} (\S+)$", str(text), re.MULTILINE)
        return float(found.group(1)) if found else float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def open_page(
    browser,
    base: str,
    errors: list[str] | None = None,
    drawn: tuple[str, ...] = PANELS_DRAWN,
    live: bool = True,
):
    """A page once everything in `drawn` shows (by default every panel of the dashboard) and,
    if `live`, its stream is up; and the seconds from navigation to everything drawn. The
    page's script errors go to `errors`."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    if errors is not None:
        page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.perf_counter()
    page.goto(base + "/")
    for selector in drawn:
        page.wait_for_selector(selector, timeout=60_000)
    seconds = time.perf_counter() - started
    if live:
        page.wait_for_selector("html[data-live=live]", state="attached", timeout=60_000)
    return page, seconds


def open_floor(browser, base: str, errors: list[str] | None = None):
    return open_page(browser, base, errors, drawn=FLOOR_DRAWN, live=False)


@contextlib.contextmanager
def page_floor():
    """The floor of a Dash page on this machine: Dash's own scripts (React, its renderer, the
    main bundles of its component libraries) drawing one element, served as the dashboard is
    (uvicorn, FastAPI; in a thread of this process). Yields its address."""
    import dash
    import uvicorn
    from dash import html
    from fastapi import FastAPI

    api = FastAPI()
    app = dash.Dash(__name__, server=api, include_assets_files=False)
    app.layout = html.Div("empty", id="floor")
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the empty Dash page did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()


def watch_today(page) -> None:
    """Record in the page when its today's trades next change (window.changedAt, ms)."""
    page.evaluate(
        """() => {
            window.changedAt = null;
            new MutationObserver(() => { window.changedAt ??= Date.now(); }).observe(
                document.getElementById('today-trades'),
                {childList: true, subtree: true, characterData: true});
        }"""
    )


def p95(samples: list[float]) -> float:
    return (
        statistics.quantiles(samples, n=20, method="inclusive")[18]
        if len(samples) > 1
        else (samples[0] if samples else float("nan"))
    )


@dataclass
class Served:
    start_seconds: float = 0.0
    api: dict[str, list[float]] = field(default_factory=dict)  # endpoint: seconds per request
    page_loads: list[float] = field(default_factory=list)
    floor_loads: list[float] = field(default_factory=list)  # an empty Dash page (page_floor)
    live_latencies: list[float] = field(default_factory=list)  # commit to browser, seconds
    missed: int = 0  # landings the page did not show within LIVE_TIMEOUT
    listeners: int = 0
    landings: int = 0
    snapshots_read: float = 0.0
    skipped: str = ""


class _Listener(threading.Thread):
    """One more open page, as the server sees it: a client of GET /api/live."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.events = port, 0
        self.ready = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        connection.request("GET", "/api/live")
        response = connection.getresponse()
        for line in response:
            if line.startswith(b"event: ready"):
                self.ready.set()
            elif line.startswith(b"event: snapshot"):
                self.events += 1


def measure(
    target: database.Warehouse, land_one, *, requests: int = 50, loads: int = 5, landings: int = 10
) -> Served:
    """Start the server on `target`, time it; `land_one()` lands one trade and commits."""
    served = Served()
    server = DashboardServer(target, Path(os.devnull))
    try:
        served.start_seconds = server.start_seconds
        for path in ENDPOINTS:
            server.get(path)  # warm
            samples = []
            for _ in range(requests):
                started = time.perf_counter()
                status, _ = server.get(path)
                samples.append(time.perf_counter() - started)
                assert status == 200, path
            served.api[path.split("?")[0]] = samples
        if not CHROMIUM.exists():
            served.skipped = f"{CHROMIUM} is missing: no page load or live figures"
            return served
        _measure_browser(server, served, land_one, loads, landings)
    finally:
        server.stop()
    return served


def _measure_browser(server, served: Served, land_one, loads: int, landings: int) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        open_page(browser, server.base)[0].close()  # warm
        with page_floor() as floor:
            open_floor(browser, floor)[0].close()
            for _ in range(loads):  # in turns: the machine's noise falls on both alike
                page, seconds = open_page(browser, server.base)
                served.page_loads.append(seconds)
                page.close()
                page, seconds = open_floor(browser, floor)
                served.floor_loads.append(seconds)
                page.close()
        listeners = [_Listener(server.port) for _ in range(49)]
        for listener in listeners:
            listener.start()
        for listener in listeners:
            listener.ready.wait(timeout=30)
        page, _ = open_page(browser, server.base)
        served.listeners = int(server.metric("live_connections_active"))
        before = server.metric("live_snapshots_total")
        for _ in range(landings):
            watch_today(page)
            land_one()
            committed = time.time() * 1000
            served.landings += 1
            try:
                page.wait_for_function("window.changedAt !== null", timeout=LIVE_TIMEOUT * 1000)
            except PlaywrightTimeout:
                served.missed += 1  # counted and reported: the other figures still stand
            else:
                latency = (page.evaluate("window.changedAt") - committed) / 1000
                served.live_latencies.append(latency)
            time.sleep(1.2)  # past the throttle: each landing is a change of its own
        served.snapshots_read = server.metric("live_snapshots_total") - before
        browser.close()


def report(trades: int, served: Served) -> list[str]:
    ms = 1000
    lines = [
        "",
        f"### The served dashboard at {trades:,} trades",
        "",
        f"`precog dashboard` answered after {served.start_seconds:.1f} s (dbt compiles the "
        "panels' queries at start-up).",
        "",
        "| endpoint | requests | p50 | p95 |",
        "| --- | --- | --- | --- |",
    ]
    for path, samples in served.api.items():
        lines.append(
            f"| `{path}` | {len(samples)} | {statistics.median(samples) * ms:.1f} ms "
            f"| {p95(samples) * ms:.1f} ms |"
        )
    if served.skipped:
        return [*lines, "", served.skipped]
    loads, live = served.page_loads, served.live_latencies
    lines += [
        "",
        f"- page load, navigation to every panel drawn (Chromium, {len(loads)} loads): "
        f"p50 {statistics.median(loads) * ms:.0f} ms, max {max(loads) * ms:.0f} ms; "
        f"an empty Dash page in turn with it (Dash's floor here): p50 "
        f"{statistics.median(served.floor_loads) * ms:.0f} ms, "
        f"{statistics.median(loads) / statistics.median(served.floor_loads):.1f}x",
        f"- trade commit to the open page ({served.landings} landings, {served.listeners} pages "
        f"listening): p50 {statistics.median(live) * ms:.0f} ms, p95 {p95(live) * ms:.0f} ms"
        if live
        else f"- trade commit to the open page: none of {served.landings} landings shown",
        *(
            [f"- landings not shown on the page within {LIVE_TIMEOUT} s: {served.missed}"]
            if served.missed
            else []
        ),
        f"- reads of the live panels: {served.snapshots_read:.0f} for {served.landings} "
        f"landings with {served.listeners} pages open",
    ]
    return lines
