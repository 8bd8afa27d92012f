"""The dashboard, for real: `precog dashboard` serving a simulated desk (and an empty one) from
a real PostgreSQL, read in Debian's Chromium through Playwright. Every panel draws with data,
a landed trade reaches the open page within a second, every API answer equals its panel's
query, bad parameters get a 422, bi_reader is the only role the server uses.

The desk's clock stands at DESK_NOW (the server's --as-of), so no verdict depends on the hour.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import plotly
import pytest

from precog import PROJECT_ROOT
from precog.bench import served
from precog.bench.measure import fill_ab_test_results
from precog.bench.served import DashboardServer, launch_chromium
from precog.dashboard import panels
from precog.dashboard.layout import read_opening
from precog.dashboard.reader import Reader
from precog.pipeline.dbt_runner import MANIFEST_PATH, run_dbt
from precog.warehouse import database
from tests.helpers import (
    create_database,
    drop_databases,
    module_database,
    needs_chromium,
    precog,
)

DESK_NOW = "2026-02-01T18:00:00+00:00"
SCREENSHOT = PROJECT_ROOT / "docs" / "dashboard.png"
VENDORED_PLOTLY = (
    PROJECT_ROOT / "precog" / "dashboard" / "assets" / "vendor" / "plotly-basic.min.js"
)
# Each endpoint and the analysis it answers with (compiled with its defaults by `dbt compile`).
ENDPOINTS = {
    "/api/performance/daily": "daily_pnl",
    "/api/positions/current": "current_positions",
    "/api/strategies/comparison": "strategy_comparison",
    "/api/models/accuracy": "model_accuracy",
    "/api/models/1/calibration": "calibration_curve",
    "/api/models/edge-capture": "edge_capture",
    "/api/markets/overview": "market_overview",
    "/api/experiments/results": "ab_test_results",
    "/api/filters": "dashboard_filters",
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A simulated desk up to DESK_NOW, built by dbt (the models, then the A/B results, then
    the mart of them). `dbt run`: the models' tests are other modules' business."""
    with module_database("precog_test_dashboard") as target:
        artifacts = tmp_path_factory.mktemp("dbt")
        precog(target, "simulate", "--trades", "2000", "--seed", "7", "--end", DESK_NOW)
        for step in (["run"], ["run", "--select", "mv_ab_test_results"]):
            result = run_dbt(step, target, artifacts)
            assert result.returncode == 0, result.stdout[-3000:]
            fill_ab_test_results(target)
        yield target


@pytest.fixture(scope="module")
def server(desk, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "dashboard.log"
    running = DashboardServer(desk, log, as_of=DESK_NOW)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


def open_page(browser, server: DashboardServer):
    """The page once every panel has drawn, with no script error; how long that took."""
    errors: list[str] = []
    page, seconds = served.open_page(browser, server.base, errors)
    assert errors == []
    return page, seconds


def plotly_js_version(bundle: Path) -> str:
    return re.search(r"plotly\.js .*?v(\d+\.\d+\.\d+)", bundle.read_text()[:300]).group(1)


def vendored_plotly_version() -> str:
    return plotly_js_version(VENDORED_PLOTLY)


# --- the tests ---------------------------------------------------------------------------------


def test_every_panel_renders_with_data(server, browser):
    page, seconds = open_page(browser, server)
    print(f"page load to every panel drawn: {seconds * 1000:.0f} ms")
    assert page.locator(".empty").count() == 0, page.locator(".empty").all_inner_texts()
    assert page.locator("#pnl-chart .bars .point").count() >= 7  # a bar per day with trades
    assert page.locator("#positions-table tbody tr").count() > 1
    assert page.locator("#calibration-chart .scatterlayer .point").count() >= 5
    assert "$" in page.inner_text("#today-pnl")
    # Money to the cent, rates as percentages.
    cells = page.locator("#strategy-table td[data-dash-column=net_pnl]").all_inner_texts()
    assert cells and all(
        cell.split(".")[-1].isdigit() and len(cell.split(".")[-1]) == 2 for cell in cells
    ), cells
    rates = page.locator("#strategy-table td[data-dash-column=win_rate]").all_inner_texts()
    assert any(rate.endswith("%") for rate in rates), rates
    # Drawn by the vendored plotly.js, whose bundle holds every trace type the page draws.
    assert page.evaluate("Plotly.version") == vendored_plotly_version()
    drawn = page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".flatMap(graph => graph.data.map(trace => trace.type || 'scatter'))"
    )
    registered = page.evaluate("Object.keys(Plotly.PlotSchema.get().traces)")
    assert drawn and set(drawn) <= set(registered), (drawn, registered)
    verdicts = page.locator(".verdict").all_inner_texts()
    assert len(verdicts) == 2 and all(verdicts), verdicts
    # Each panel's dbt exposure links to it.
    exposures = json.loads(MANIFEST_PATH.read_text())["exposures"].values()
    anchors = [exposure["url"].split("#")[1] for exposure in exposures]
    assert len(anchors) == 6 and all(page.locator(f"#{a}").count() == 1 for a in anchors)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()


def test_the_page_opens_drawn_and_answers_its_choices(server, browser):
    """The layout carries every panel: no callback runs as the page opens but the live
    panels' (a snapshot of the stream); a choice on the page asks the server again."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    asked: list[str] = []
    page.on(
        "request",
        lambda request: (
            asked.append(json.loads(request.post_data)["output"])
            if "_dash-update-component" in request.url
            else None
        ),
    )
    page.goto(server.base + "/")
    for selector in served.PANELS_DRAWN:
        page.wait_for_selector(selector)
    assert all("pnl-chart.figure" in output or output == "positions.children" for output in asked)

    def choose(dropdown: str, option: str) -> None:
        page.click(dropdown)
        page.get_by_role("option", name=option, exact=True).click()

    bars = "document.querySelectorAll('#pnl-chart .bars .point').length"
    week = server.get("/api/performance/daily?days=7")[1]
    assert page.evaluate(bars) > len(week) > 0
    choose("#filter-days", "last 7 days")
    page.wait_for_function(f"{bars} === {len(week)}", timeout=10_000)
    versions = (
        "[...document.querySelectorAll('#strategy-table td[data-dash-column=strategy_version]')]"
    )
    assert page.evaluate(
        f"{versions}.length > 0 && {versions}.every(c => c.innerText.startsWith('1.'))"
    )
    choose("#strategy-name", "steady_edge")  # value_hunter's versions, then steady_edge's
    page.wait_for_function(
        f"{versions}.length > 0 && {versions}.every(c => c.innerText.startsWith('3.0'))",
        timeout=10_000,
    )
    page.close()


def test_the_vendored_plotly_bundle_is_the_version_plotly_ships():
    """The page loads plotly.js' basic bundle (scatter and bar, all it draws) from its assets,
    a quarter of the full bundle dcc.Graph would fetch; it must be the version plotly ships."""

    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert vendored_plotly_version() == plotly_js_version(full)


def test_api_answers_equal_the_panels_queries(desk, server, tmp_path):
    result = run_dbt(["compile", "--select", "path:analyses"], desk, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    compiled = tmp_path / "compiled" / "precog" / "analyses"
    connection = database.connect(desk)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("set precog.now = %s", (DESK_NOW,))
            for path, analysis in ENDPOINTS.items():
                cursor.execute((compiled / f"{analysis}.sql").read_text())
                names = [column.name for column in cursor.description]
                expected = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                status, answer = server.get(path)
                assert status == 200, (path, answer)
                assert len(answer) == len(expected) > 0, path
                for got, want in zip(answer, expected, strict=True):
                    assert got.keys() == want.keys(), path
                    for column, value in want.items():
                        assert _same(got[column], value), (path, column, got[column], value)
    finally:
        connection.close()


def _same(answer, value) -> bool:
    """An answer equals the database's value exactly: numeric as a decimal string with every
    digit, times as ISO 8601."""
    if isinstance(value, Decimal):
        return isinstance(answer, str) and Decimal(answer) == value and answer == format(value, "f")
    if hasattr(value, "isoformat"):
        return answer == value.isoformat()
    return answer == value


def test_money_is_never_a_float(server):
    _, days = server.get("/api/performance/daily?days=7")
    _, positions = server.get("/api/positions/current")
    for row in days:
        assert isinstance(row["net_pnl"], str) and isinstance(row["cumulative_pnl"], str)
        assert set(row) >= {"date", "net_pnl"}
    for row in positions:
        assert isinstance(row["unrealized_pnl"], str) and isinstance(row["realized_pnl"], str)
    # The most recently traded first, as many as asked, each row counting them all.
    _, three = server.get("/api/positions/current?limit=3")
    assert three == positions[:3] and three[0]["positions_held"] == len(positions) > 3
    assert [row["last_trade_at"] for row in positions] == sorted(
        (row["last_trade_at"] for row in positions), reverse=True
    )
    dates = [row["date"] for row in days]
    assert dates == sorted(dates) and days[-1]["is_today"] and days[-1]["date"] == DESK_NOW[:10]
    assert len(days) <= 8 and dates[0] >= "2026-01-25"  # seven days and today, those with trades
    _, filtered = server.get("/api/performance/daily?days=7&league=NFL")
    assert sum(Decimal(r["net_pnl"]) for r in filtered) != sum(Decimal(r["net_pnl"]) for r in days)
    _, versions = server.get("/api/strategies/comparison?strategy_name=value_hunter&versions=1.0")
    assert versions and {row["strategy_version"] for row in versions} == {"1.0"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/performance/daily?days=0",
        "/api/performance/daily?days=366",
        "/api/performance/daily?days=abc",
        "/api/markets/overview?limit=0",
        "/api/positions/current?limit=0",
        "/api/models/0/calibration",
        "/api/strategies/comparison?strategy_name=",
    ],
)
def test_bad_parameters_get_a_422_that_names_them(server, path):
    status, answer = server.get(path)
    assert status == 422, answer
    name = path.split("?")[-1].split("=")[0] if "?" in path else "model_id"
    assert any(name in error["loc"] for error in answer["detail"]), answer


def test_bi_reader_is_the_only_role_the_server_uses(desk, server):
    server.get("/api/positions/current")
    with database.transaction(desk) as cursor:
        cursor.execute(
            "select distinct usename from pg_stat_activity"
            " where datname = %s and application_name = 'precog-dashboard'",
            (desk.dbname,),
        )
        assert [row[0] for row in cursor.fetchall()] == ["bi_reader"]


def test_a_landed_trade_reaches_the_open_page_within_a_second(desk, server, browser):
    """Pushed: the page polls nothing while the stream is up. Measured from the commit (this
    process's clock) to the change of the page's today figures (the browser's clock; both are
    this machine's)."""
    page, _ = open_page(browser, server)
    before = page.inner_text("#today-trades")
    served.watch_today(page)
    with database.transaction(desk) as cursor:
        cursor.execute(
            "select position_id, open_quantity from marts.mv_current_positions"
            " order by open_quantity desc, position_id limit 1"
        )
        position_id, held = cursor.fetchone()
        cursor.execute(
            "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
            " execution_timestamp) select max(trade_id) + 1, %s, 'exit', 1, 0.91, 0.01, %s"
            " from raw.trades",
            (position_id, DESK_NOW),
        )
    committed = time.time() * 1000
    page.wait_for_function("window.changedAt !== null", timeout=5_000)
    latency = page.evaluate("window.changedAt") - committed
    print(f"trade commit to the page: {latency:.0f} ms")
    assert latency < 1000
    assert int(page.inner_text("#today-trades")) == int(before) + 1
    snapshot = page.evaluate("window.precogLastSnapshot")
    positions = {row["position_id"]: row for row in snapshot["current_positions"]}
    assert Decimal(positions[position_id]["open_quantity"]) == held - 1
    page.close()


def test_metrics_name_what_the_source_document_names(server):
    server.get("/api/positions/current")
    status, text = server.get("/metrics")
    assert status == 200
    for needle in (
        'api_request_duration_seconds_count{endpoint="/api/positions/current"}',
        "live_connections_active",
        'aggregation_freshness_seconds{aggregation_level="hourly"}',
        'aggregation_freshness_seconds{aggregation_level="all_time"}',
        'mart_last_rebuild_timestamp_seconds{model="mv_daily_pnl"}',
        'mart_rebuild_duration_seconds{model="mv_daily_pnl"}',
    ):
        assert needle in text, needle


def test_an_empty_warehouse_serves_an_empty_dashboard(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("PGDATABASE", "unused")  # create_database points it elsewhere
    target = create_database("precog_test_dashboard_empty")
    empty = DashboardServer(target, tmp_path / "dashboard.log", as_of=DESK_NOW)
    try:
        for path in ENDPOINTS:
            status, answer = empty.get(path)
            assert (status, answer) == (200, []), path
        page, _ = open_page(browser, empty)
        assert page.locator(".empty").count() >= 6
        assert page.inner_text("#today-pnl") == "$0.00"
        page.close()
    finally:
        empty.stop()
        drop_databases(target)


def test_the_panels_as_the_page_opens_are_prepared_once_per_session(desk):
    """The defaults (the page as it opens, the live feed) run a statement planned once per
    session; other values are planned for themselves. Both answer as the plain query does."""
    queries = panels.compile_panels(desk)
    reader = Reader(desk, queries, as_of=DESK_NOW)
    try:
        opened = reader.fetch("daily_pnl")
        filtered = reader.fetch("daily_pnl", days=7)
        session = reader._idle.get_nowait()
        with session.connection.cursor() as cursor:
            cursor.execute("select name from pg_prepared_statements")
            assert [name for (name,) in cursor.fetchall()] == ["panel_daily_pnl"]
            cursor.execute(queries["daily_pnl"], panels.parameters("daily_pnl"))
            assert len(opened) == len(cursor.fetchall()) > 0
        assert filtered and {row["date"] for row in filtered} <= {row["date"] for row in opened}
    finally:
        reader.close()


def test_a_panel_that_cannot_be_read_leaves_the_rest_of_the_page(desk):
    queries = {**panels.compile_panels(desk), "market_overview": "select 1 / 0"}
    reader = Reader(desk, queries, as_of=DESK_NOW)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            opening = read_opening(reader, pool)
        assert opening.markets == []
        assert opening.daily_pnl and opening.positions and opening.calibration
    finally:
        reader.close()
