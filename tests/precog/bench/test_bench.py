"""`precog bench`'s dashboard section at a tiny size (precog/bench/): each dashboard
query's on-demand equivalent, computed from the staging views at query time, gives the marts'
answer, and the live view shows trades landed after the marts were built. So the equivalence
the benchmark's ratios rest on is kept in CI."""

from __future__ import annotations

from precog import simulator
from precog.bench import measure as bench
from precog.bench import plot, served
from tests.helpers import needs_chromium


def test_on_demand_answers_equal_the_marts_and_the_live_view_shows_new_trades(warehouse, tmp_path):
    simulator.simulate_history(3_000, 2, bench.history_end(warehouse), target=warehouse)

    board = bench.dashboard(warehouse, tmp_path, quick=True)

    assert [query.name for query in board.queries] == bench.DASHBOARD_QUERIES
    assert {query.name: query.difference for query in board.queries if not query.same_answer} == {}
    # not a vacuous equality: every panel has rows at this size
    assert {query.name: query.rows for query in board.queries if not query.rows} == {}

    live = board.live
    assert live.landed_now > 0  # exits executed now: today, whatever the hour
    assert live.pending_trades >= live.landed_hour_trades + live.landed_now
    assert live.live_today > live.materialized_today
    assert live.same_as_on_demand
    assert live.live_today == live.on_demand_today


def test_the_growth_plot_is_drawn_as_a_png(tmp_path):
    needs_chromium()
    points = {
        "load": [(1_000, 0.1), (1_000_000, 9.0)],
        "query p95": [(1_000, 0.002), (1_000_000, 0.003)],
    }
    drawn = plot.write_png(points, tmp_path / "growth.png")
    image = drawn.read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 10_000
    html = plot.figure(points).to_html(include_plotlyjs=False)
    assert "trades in the history" in html and "query p95" in html


def test_the_page_floor_serves_an_empty_dash_page():
    """The floor page load is compared with: Dash's scripts drawing one element, no error."""
    needs_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, served.page_floor() as base:
        browser = served.launch_chromium(playwright)
        errors: list[str] = []
        page, seconds = served.open_floor(browser, base, errors)
        assert page.inner_text("#floor") == "empty" and errors == [] and seconds > 0
        scripts = page.eval_on_selector_all("script[src]", "nodes => nodes.map(n => n.src)")
        assert any("dash_table" in src for src in scripts), scripts  # the page's libraries
        browser.close()
