"""The desk's page (Plotly Dash): the source document's five components and the A/B results.
It opens drawn (layout.py); its callbacks answer a choice made on the page, and today's P&L and
the positions follow the live stream (assets/live.js)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output
from fastapi import FastAPI
from plotly.io.json import to_json_plotly

from precog.dashboard.figures import calibration_figure, pnl_figure
from precog.dashboard.layout import (
    DEFAULT_DAYS,
    KPIS,
    Opening,
    kpi_values,
    layout,
    positions,
    read_opening,
    strategy_table,
)
from precog.dashboard.reader import Reader

# A panel's rows, read off the event loop.
Fetch = Callable[..., Awaitable[list[dict]]]
OPENING_READS = 4  # panels read at once, all opening pages together


class DeskPage(dash.Dash):
    """Dash serving a layout read per page (the page opens drawn, layout.py), while its own
    layout, which it checks the callbacks against, stays the page's empty structure: Dash's
    check reads nothing. It serves the layout from a thread (a sync route)."""

    def __init__(self, reader: Reader, **settings: Any):
        super().__init__(**settings)
        self.reader = reader
        # Bounds the opening reads of all pages at once (each panel's read is a connection).
        self.readers = ThreadPoolExecutor(max_workers=OPENING_READS, thread_name_prefix="opening")
        self.layout = layout(Opening())

    def serve_layout(self):
        opened = layout(read_opening(self.reader, self.readers))
        return self.backend.make_response(to_json_plotly(opened), mimetype="application/json")


def mount(api: FastAPI, reader: Reader) -> dash.Dash:
    """The page, served by the API's own server. The callbacks only answer a choice made on
    the page or the live stream."""
    app = DeskPage(
        reader,
        name=__name__,
        server=api,
        title="precog desk",
        assets_folder=str(Path(__file__).parent / "assets"),
        update_title=None,
    )

    async def fetch(panel: str, **given: Any) -> list[dict]:
        return await asyncio.to_thread(reader.fetch, panel, **given)

    _pnl_callbacks(app, fetch)
    _panel_callbacks(app, fetch)
    return app


def _pnl_callbacks(app: dash.Dash, fetch: Fetch) -> None:
    """The P&L chart and the KPIs: on a filter's change, and live with the stream."""

    @app.callback(
        Output("pnl-chart", "figure"),
        *(Output(anchor, "children") for _, anchor in KPIS),
        Input("filter-days", "value"),
        Input("filter-strategy", "value"),
        Input("filter-model", "value"),
        Input("filter-league", "value"),
        Input("filter-market-type", "value"),
        Input("live-daily-pnl", "data"),
        prevent_initial_call=True,
    )
    async def pnl(days, strategy_id, model_id, league, market_type, live_rows):
        filtered = days != DEFAULT_DAYS or any((strategy_id, model_id, league, market_type))
        if live_rows is not None and dash.ctx.triggered_id == "live-daily-pnl" and not filtered:
            rows = live_rows  # the stream's read: no query per page
        else:
            rows = await fetch(
                "daily_pnl",
                days=days or DEFAULT_DAYS,
                strategy_id=strategy_id,
                model_id=model_id,
                league=league,
                market_type=market_type,
            )
        return (pnl_figure(rows), *kpi_values(rows))


def _panel_callbacks(app: dash.Dash, fetch: Fetch) -> None:
    """The positions (live with the stream), the strategy compared, the model drawn."""

    @app.callback(
        Output("positions", "children"),
        Input("live-positions", "data"),
        prevent_initial_call=True,
    )
    async def live_positions(rows):
        return positions(rows)

    @app.callback(
        Output("strategy-comparison", "children"),
        Input("strategy-name", "value"),
        prevent_initial_call=True,
    )
    async def strategy_comparison(strategy_name):
        rows = (
            await fetch("strategy_comparison", strategy_name=strategy_name) if strategy_name else []
        )
        return strategy_table(rows)

    @app.callback(
        Output("calibration-chart", "figure"),
        Input("calibration-model", "value"),
        Input("calibration-league", "value"),
        prevent_initial_call=True,
    )
    async def calibration(model_id, league):
        if model_id is None:
            return calibration_figure([])
        return calibration_figure(
            await fetch("calibration_curve", model_id=model_id, league=league or "ALL")
        )
