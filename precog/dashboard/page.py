"""The desk's page (Plotly Dash): the source document's five components and the A/B results,
each drawn (figures.py) from its panel's query (panels.py). Today's P&L and the positions
follow the live stream (assets/live.js)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, dcc, html
from fastapi import FastAPI

from precog.dashboard.figures import (
    calibration_figure,
    experiments,
    money,
    pnl_figure,
    table,
    win_rate_figure,
)
from precog.dashboard.reader import Reader

# A panel's rows, read off the event loop.
Fetch = Callable[..., Awaitable[list[dict]]]
DEFAULT_DAYS = 30
DAYS = [7, 30, 90, 365]
# The columns each table shows, in order.
POSITION_COLUMNS = [
    "ticker",
    "league",
    "market_type",
    "strategy_name",
    "strategy_version",
    "side",
    "open_quantity",
    "average_entry_price",
    "current_price",
    "unrealized_pnl",
    "realized_pnl",
    "opened_at",
    "last_trade_at",
]
STRATEGY_COLUMNS = [
    "strategy_version",
    "league",
    "market_type",
    "total_trades",
    "closed_trades",
    "net_pnl",
    "win_rate",
    "average_edge",
    "profit_factor",
    "max_drawdown",
    "sharpe_ratio",
]
ACCURACY_COLUMNS = [
    "model_name",
    "model_version",
    "league",
    "n_forecasts",
    "brier_score",
    "reliability",
    "resolution",
    "log_loss",
    "ece",
    "mce",
    "spiegelhalter_p",
]
EDGE_CAPTURE_COLUMNS = [
    "model_name",
    "strategy_name",
    "strategy_version",
    "closing_trades",
    "predicted_edge",
    "realized_edge",
    "capture_ratio",
    "realized_pnl",
]
MARKET_COLUMNS = [
    "ticker",
    "league",
    "market_type",
    "model_name",
    "predicted_prob",
    "market_price",
    "edge",
    "yes_bid",
    "yes_ask",
    "volume",
    "market_type_win_rate",
]


# --- the page -----------------------------------------------------------------------------------


def section(title: str, anchor: str, *children: Any) -> html.Section:
    """A panel; its anchor is the URL of its dbt exposure (models/marts/_exposures.yml)."""
    return html.Section([html.H2(title), *children], id=anchor, className="panel")


def layout() -> html.Div:
    return html.Div(
        [
            dcc.Location(id="url"),
            # Each live panel's rows of the stream's last snapshot (assets/live.js): a page
            # sends its callback the rows that callback draws, no more.
            dcc.Store(id="live-daily-pnl"),
            dcc.Store(id="live-positions"),
            html.Header(
                [
                    html.H1("precog desk"),
                    html.Span("connecting", id="live-status", **{"data-state": "connecting"}),
                ]
            ),
            _kpis(),
            _pnl_section(),
            section("Positions", "positions-panel", html.Div(id="positions")),
            section(
                "Strategy comparison",
                "strategy-comparison-panel",
                dcc.Dropdown(id="strategy-name", clearable=False, style={"maxWidth": 300}),
                html.Div(id="strategy-comparison"),
            ),
            _model_section(),
            section(
                "Market overview",
                "market-overview-panel",
                dcc.Graph(id="market-type-win-rates"),
                html.Div(id="market-overview"),
            ),
            section("A/B tests", "ab-tests-panel", html.Div(id="ab-results")),
        ],
        className="page",
    )


def _kpis() -> html.Div:
    figures = [
        ("today's net P&L", "today-pnl"),
        ("today's trades", "today-trades"),
        ("window net P&L", "window-pnl"),
        ("drawdown now", "window-drawdown"),
    ]
    return html.Div(
        [html.Div([html.Small(label), html.Strong("-", id=anchor)]) for label, anchor in figures],
        className="kpis",
    )


def _pnl_section() -> html.Section:
    dropdown = {"clearable": True, "style": {"minWidth": 180}}
    filters = [
        dcc.Dropdown(
            id="filter-days",
            options=[{"label": f"last {d} days", "value": d} for d in DAYS],
            value=DEFAULT_DAYS,
            clearable=False,
            style={"minWidth": 150},
        ),
        dcc.Dropdown(id="filter-strategy", placeholder="all strategies", **dropdown),
        dcc.Dropdown(id="filter-model", placeholder="all models", **dropdown),
        dcc.Dropdown(id="filter-league", placeholder="all leagues", **dropdown),
        dcc.Dropdown(id="filter-market-type", placeholder="all market types", **dropdown),
    ]
    return section(
        "P&L", "pnl-panel", html.Div(filters, className="filters"), dcc.Graph(id="pnl-chart")
    )


def _model_section() -> html.Section:
    choices = [
        dcc.Dropdown(id="calibration-model", clearable=False, style={"minWidth": 250}),
        dcc.Dropdown(
            id="calibration-league", value="ALL", clearable=False, style={"minWidth": 120}
        ),
    ]
    return section(
        "Model accuracy",
        "model-accuracy-panel",
        html.Div(choices, className="filters"),
        dcc.Graph(id="calibration-chart"),
        html.Div(id="model-accuracy"),
        html.H3("Edge capture"),
        html.Div(id="edge-capture"),
    )


def mount(api: FastAPI, reader: Reader) -> dash.Dash:
    """The page, served by the API's own server."""
    app = dash.Dash(
        __name__,
        server=api,
        title="precog desk",
        assets_folder=str(Path(__file__).parent / "assets"),
        update_title=None,
    )
    app.layout = layout

    async def fetch(panel: str, **given: Any) -> list[dict]:
        return await asyncio.to_thread(reader.fetch, panel, **given)

    _pnl_callbacks(app, fetch)
    _table_callbacks(app, fetch)
    _model_callbacks(app, fetch)
    return app


def _pnl_callbacks(app: dash.Dash, fetch: Fetch) -> None:
    """The P&L panel: its filters' choices, the chart and the KPIs (live with the stream)."""

    @app.callback(
        Output("filter-strategy", "options"),
        Output("filter-model", "options"),
        Output("filter-league", "options"),
        Output("filter-market-type", "options"),
        Output("strategy-name", "options"),
        Output("strategy-name", "value"),
        Input("url", "pathname"),
    )
    async def filters(_):
        rows = await fetch("dashboard_filters")

        def options(key: str, label) -> list[dict]:
            return [{"label": label(r), "value": r[key]} for r in _distinct(rows, key)]

        names = sorted({row["strategy_name"] for row in rows})
        return (
            options("strategy_id", lambda r: f"{r['strategy_name']} {r['strategy_version']}"),
            options("model_id", lambda r: f"{r['model_name']} {r['model_version']}"),
            options("league", lambda r: r["league"]),
            options("market_type", lambda r: r["market_type"]),
            names,
            "value_hunter" if "value_hunter" in names else (names[0] if names else None),
        )

    @app.callback(
        Output("pnl-chart", "figure"),
        Output("today-pnl", "children"),
        Output("today-trades", "children"),
        Output("window-pnl", "children"),
        Output("window-drawdown", "children"),
        Input("filter-days", "value"),
        Input("filter-strategy", "value"),
        Input("filter-model", "value"),
        Input("filter-league", "value"),
        Input("filter-market-type", "value"),
        Input("live-daily-pnl", "data"),
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
        today = next((row for row in rows if row["is_today"]), None)
        return (
            pnl_figure(rows),
            money(today["net_pnl"] if today else 0),
            str(today["total_trades"] if today else 0),
            money(sum((Decimal(row["net_pnl"]) for row in rows), Decimal(0))),
            money(rows[-1]["drawdown"] if rows else 0),
        )


def _table_callbacks(app: dash.Dash, fetch: Fetch) -> None:
    """The positions (live with the stream), the strategy comparison, the market overview and
    the A/B results."""

    @app.callback(
        Output("positions", "children"),
        Input("url", "pathname"),
        Input("live-positions", "data"),
    )
    async def positions(_, live_rows):
        if live_rows is not None and dash.ctx.triggered_id == "live-positions":
            rows = live_rows
        else:
            rows = await fetch("current_positions")
        held = rows[0]["positions_held"] if rows else 0
        shown = f"the {len(rows)} traded most recently of " if len(rows) < held else ""
        return [
            html.P(f"Showing {shown}{held:,} positions held.", className="caption"),
            table("positions-table", rows, POSITION_COLUMNS, "No open positions"),
        ]

    @app.callback(Output("strategy-comparison", "children"), Input("strategy-name", "value"))
    async def strategy_comparison(strategy_name):
        rows = (
            await fetch("strategy_comparison", strategy_name=strategy_name) if strategy_name else []
        )
        return table("strategy-table", rows, STRATEGY_COLUMNS, "No strategies have traded yet")

    @app.callback(
        Output("market-type-win-rates", "figure"),
        Output("market-overview", "children"),
        Output("ab-results", "children"),
        Input("url", "pathname"),
    )
    async def markets_and_experiments(_):
        markets, tests = await fetch("market_overview"), await fetch("ab_test_results")
        return (
            win_rate_figure(markets),
            table("markets-table", markets, MARKET_COLUMNS, "No open markets"),
            experiments(tests),
        )


def _model_callbacks(app: dash.Dash, fetch: Fetch) -> None:
    """Model accuracy: the models and leagues to choose, the metrics, edge capture, the
    reliability diagram."""

    @app.callback(
        Output("calibration-model", "options"),
        Output("calibration-model", "value"),
        Output("calibration-league", "options"),
        Output("model-accuracy", "children"),
        Output("edge-capture", "children"),
        Input("url", "pathname"),
    )
    async def models(_):
        accuracy, capture = await fetch("model_accuracy"), await fetch("edge_capture")
        choices = [
            {"label": f"{r['model_name']} {r['model_version']}", "value": r["model_id"]}
            for r in _distinct(accuracy, "model_id")
        ]
        leagues = sorted({row["league"] for row in accuracy} | {"ALL"})
        return (
            choices,
            choices[0]["value"] if choices else None,
            leagues,
            table("accuracy-table", accuracy, ACCURACY_COLUMNS, "No resolved forecasts yet"),
            table("edge-capture-table", capture, EDGE_CAPTURE_COLUMNS, "No closed trades yet"),
        )

    @app.callback(
        Output("calibration-chart", "figure"),
        Input("calibration-model", "value"),
        Input("calibration-league", "value"),
    )
    async def calibration(model_id, league):
        if model_id is None:
            return calibration_figure([])
        return calibration_figure(
            await fetch("calibration_curve", model_id=model_id, league=league or "ALL")
        )


def _distinct(rows: list[dict], key: str) -> list[dict]:
    seen: dict[Any, dict] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())
