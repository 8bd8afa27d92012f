"""The growth plot of docs/benchmarks.md: what each measure costs against the size of the
history, one line per measure over the sizes of one `precog bench` run. Drawn with Plotly and
rendered to PNG by Chromium (the browser the dashboard's tests drive): no other plotting
library."""

from __future__ import annotations

import tempfile
from pathlib import Path

import plotly.graph_objects as go

# Each line: a label, and the seconds it reads from a size's result (measure.SizeResult).
SERIES = {
    "load (simulate + COPY)": lambda r: r.load_seconds,
    "floor (trade P&L and the hourly level, one statement)": lambda r: r.floor_seconds,
    "first full build (precog run)": lambda r: r.jobs.first_build.seconds,
    "precog run, one hour landed": lambda r: r.jobs.hour.seconds,
    "hourly job, one hour landed": lambda r: r.jobs.hour.job("hourly").seconds,
    "daily job": lambda r: r.jobs.hour.job("daily").seconds,
    "precog run, nothing new": lambda r: r.jobs.nothing_new.seconds,
    "live view, an hour pending (p95)": lambda r: r.dashboard.live.timing.p95,
    **{
        f"dashboard query {name} (p95)": (lambda r, name=name: _query(r, name).mart.p95)
        for name in ("daily_pnl", "current_positions")
    },
}


def _query(result, name: str):
    return next(q for q in result.dashboard.queries if q.name == name)


def figure(points: dict[str, list[tuple[int, float]]]) -> go.Figure:
    """Seconds against trades in the history, both axes logarithmic: a flat line does not
    grow with history, a line parallel to the load grows in proportion."""
    drawing = go.Figure()
    for label, values in points.items():
        drawing.add_scatter(
            x=[trades for trades, _ in values],
            y=[seconds for _, seconds in values],
            name=label,
            mode="lines+markers",
        )
    drawing.update_layout(
        title="What each measure costs against the history's size (precog bench)",
        xaxis={"title": "trades in the history", "type": "log"},
        yaxis={"title": "seconds", "type": "log"},
        width=1000,
        height=600,
        template="plotly_white",
    )
    return drawing


def points_of(results: list) -> dict[str, list[tuple[int, float]]]:
    """Each series over the sizes measured (those with a dashboard section)."""
    measured = [r for r in results if r.dashboard is not None and r.dashboard.live is not None]
    return {label: [(r.trades, read(r)) for r in measured] for label, read in SERIES.items()}


def write_png(points: dict[str, list[tuple[int, float]]], path: Path) -> Path:
    """The figure as a PNG, drawn by headless Chromium."""
    from playwright.sync_api import sync_playwright

    from precog.bench.served import launch_chromium

    with tempfile.TemporaryDirectory() as scratch:
        page_file = Path(scratch) / "growth.html"
        figure(points).write_html(page_file, include_plotlyjs=True, full_html=True)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1040, "height": 640})
            page.goto(page_file.as_uri())
            page.wait_for_selector(".main-svg")
            page.locator(".js-plotly-plot").screenshot(path=str(path))
            browser.close()
    return path
