"""The desk's page (Plotly Dash): the source document's five components and the A/B results,
each drawn from its panel's query (panels.py). Money is shown to the cent, rates as
percentages; a panel with no rows says so. Today's P&L and the positions follow the live
stream (assets/live.js)."""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, dash_table, dcc, html
from fastapi import FastAPI

from precog.dashboard.reader import Reader

CENT = Decimal("0.01")
DEFAULT_DAYS = 30
DAYS = [7, 30, 90, 365]
MONEY = {"net_pnl", "unrealized_pnl", "realized_pnl", "cumulative_pnl", "drawdown"}
RATES = {"win_rate", "market_type_win_rate", "capture_ratio"}


# --- how numbers read ------------------------------------------------------------------------


def money(value: Any) -> str:
    if value is None:
        return "-"
    cents = Decimal(value).quantize(CENT, ROUND_HALF_EVEN)
    return f"-${-cents:,.2f}" if cents < 0 else f"${cents:,.2f}"


def rate(value: Any) -> str:
    return "-" if value is None else f"{Decimal(value) * 100:.1f}%"


def number(value: Any, places: int = 4) -> str:
    return "-" if value is None else f"{Decimal(str(value)):,.{places}f}"


def readable(rows: list[dict], columns: list[str]) -> list[dict]:
    """Rows for a table: money to the cent, rates as percentages, other decimals to 4 places."""

    def cell(column: str, value: Any) -> Any:
        if column in MONEY:
            return money(value)
        if column in RATES:
            return rate(value)
        if column.endswith("_version") or isinstance(value, bool):
            return value
        if isinstance(value, float) or (isinstance(value, str) and _is_fraction(value)):
            return number(value)
        return value

    return [{c: cell(c, row.get(c)) for c in columns} for row in rows]


def _is_fraction(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return "." in text


def table(table_id: str, rows: list[dict], columns: list[str], empty: str) -> html.Div:
    if not rows:
        return html.Div(empty, className="empty", id=f"{table_id}-empty")
    return dash_table.DataTable(
        id=table_id,
        columns=[{"name": c.replace("_", " "), "id": c} for c in columns],
        data=readable(rows, columns),
        page_size=15,
        sort_action="native",
        style_table={"overflowX": "auto"},
        style_cell={"fontFamily": "sans-serif", "fontSize": 13, "padding": "4px"},
    )


def empty_figure(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font={"size": 16})
    figure.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=320)
    return figure


# --- the panels' drawings ---------------------------------------------------------------------


def pnl_figure(rows: list[dict]) -> go.Figure:
    if not rows:
        return empty_figure("No closed trades in this window yet")
    dates = [row["date"] for row in rows]
    figure = go.Figure()
    figure.add_bar(x=dates, y=[float(row["net_pnl"]) for row in rows], name="daily net P&L")
    figure.add_scatter(
        x=dates, y=[float(row["cumulative_pnl"]) for row in rows], name="running total"
    )
    figure.add_scatter(
        x=dates,
        y=[-float(row["drawdown"]) for row in rows],
        name="drawdown",
        fill="tozeroy",
        line={"color": "firebrick"},
    )
    figure.update_layout(height=360, margin={"t": 20}, yaxis={"tickprefix": "$"})
    return figure


def calibration_figure(rows: list[dict]) -> go.Figure:
    if not rows:
        return empty_figure("No resolved forecasts for this model yet")
    predicted = [float(row["mean_predicted"]) for row in rows]
    observed = [float(row["observed_frequency"]) for row in rows]
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], name="perfect calibration", line={"dash": "dot"})
    figure.add_scatter(
        x=predicted,
        y=observed,
        mode="markers+lines",
        name="observed (Wilson 95%)",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [float(r["wilson_upper"]) - o for r, o in zip(rows, observed, strict=True)],
            "arrayminus": [
                o - float(r["wilson_lower"]) for r, o in zip(rows, observed, strict=True)
            ],
        },
        text=[f"{row['n_forecasts']} forecasts" for row in rows],
    )
    figure.update_layout(
        height=360,
        margin={"t": 20},
        xaxis={"title": "predicted probability", "range": [0, 1]},
        yaxis={"title": "observed frequency", "range": [0, 1]},
    )
    return figure


def win_rate_figure(rows: list[dict]) -> go.Figure:
    by_type = {row["market_type"]: row["market_type_win_rate"] for row in rows}
    rated = {k: v for k, v in sorted(by_type.items()) if v is not None}
    if not rated:
        return empty_figure("No closed trades on open markets' types yet")
    figure = go.Figure(go.Bar(x=list(rated), y=[float(v) * 100 for v in rated.values()]))
    figure.update_layout(height=260, margin={"t": 20}, yaxis={"ticksuffix": "%"})
    return figure


def experiment_verdict(rows: list[dict]) -> str:
    """The plain reading of one experiment's rows: a broken assignment first, then the primary
    metrics (Holm-adjusted)."""
    srm = [r for r in rows if r["test"] == "srm_chi2"]
    if any(r["significant"] for r in srm):
        return "Sample ratio mismatch: the assignment is broken; do not read these results."
    primary = [r for r in rows if r["role"] == "primary"]
    winners = [r for r in primary if r["significant"]]
    if not winners:
        return "No significant difference on the primary metrics (Holm-adjusted)."
    said = ", ".join(
        f"{r['metric']} {'higher' if Decimal(r['difference']) > 0 else 'lower'}" for r in winners
    )
    return f"Treatment differs significantly (Holm-adjusted): {said}."


def experiments(rows: list[dict]) -> list[Any]:
    if not rows:
        return [html.Div("No experiments analyzed yet", className="empty", id="ab-empty")]
    blocks = []
    for name in sorted({row["experiment_name"] for row in rows}):
        own = [row for row in rows if row["experiment_name"] == name]
        shown = [row for row in own if row["role"] in ("primary", "guardrail")]
        for row in shown:
            low, high = row["ci_low"], row["ci_high"]
            row["ci_95"] = "-" if low is None else f"[{number(low)}, {number(high)}]"
        blocks += [
            html.H4(name),
            html.P(experiment_verdict(own), className="verdict"),
            table(
                f"ab-{name}",
                shown,
                [
                    "role",
                    "metric",
                    "test",
                    "control_value",
                    "treatment_value",
                    "difference",
                    "ci_95",
                    "relative_lift",
                    "p_adjusted",
                    "significant",
                ],
                "No rows",
            ),
        ]
    return blocks


# --- the page -----------------------------------------------------------------------------------


def section(title: str, *children: Any) -> html.Section:
    return html.Section([html.H2(title), *children], className="panel")


def layout() -> html.Div:
    dropdown = {"clearable": True, "style": {"minWidth": 180}}
    return html.Div(
        [
            dcc.Location(id="url"),
            dcc.Store(id="live-snapshot"),
            html.Header(
                [
                    html.H1("precog desk"),
                    html.Span("connecting", id="live-status", **{"data-state": "connecting"}),
                ]
            ),
            html.Div(
                [
                    html.Div([html.Small("today's net P&L"), html.Strong("-", id="today-pnl")]),
                    html.Div([html.Small("today's trades"), html.Strong("-", id="today-trades")]),
                    html.Div([html.Small("window net P&L"), html.Strong("-", id="window-pnl")]),
                    html.Div([html.Small("drawdown now"), html.Strong("-", id="window-drawdown")]),
                ],
                className="kpis",
            ),
            section(
                "P&L",
                html.Div(
                    [
                        dcc.Dropdown(
                            id="filter-days",
                            options=[{"label": f"last {d} days", "value": d} for d in DAYS],
                            value=DEFAULT_DAYS,
                            clearable=False,
                            style={"minWidth": 150},
                        ),
                        dcc.Dropdown(
                            id="filter-strategy", placeholder="all strategies", **dropdown
                        ),
                        dcc.Dropdown(id="filter-model", placeholder="all models", **dropdown),
                        dcc.Dropdown(id="filter-league", placeholder="all leagues", **dropdown),
                        dcc.Dropdown(
                            id="filter-market-type", placeholder="all market types", **dropdown
                        ),
                    ],
                    className="filters",
                ),
                dcc.Graph(id="pnl-chart"),
            ),
            section("Positions", html.Div(id="positions")),
            section(
                "Strategy comparison",
                dcc.Dropdown(id="strategy-name", clearable=False, style={"maxWidth": 300}),
                html.Div(id="strategy-comparison"),
            ),
            section(
                "Model accuracy",
                html.Div(
                    [
                        dcc.Dropdown(
                            id="calibration-model", clearable=False, style={"minWidth": 250}
                        ),
                        dcc.Dropdown(
                            id="calibration-league",
                            value="ALL",
                            clearable=False,
                            style={"minWidth": 120},
                        ),
                    ],
                    className="filters",
                ),
                dcc.Graph(id="calibration-chart"),
                html.Div(id="model-accuracy"),
                html.H3("Edge capture"),
                html.Div(id="edge-capture"),
            ),
            section(
                "Market overview",
                dcc.Graph(id="market-type-win-rates"),
                html.Div(id="market-overview"),
            ),
            section("A/B tests", html.Div(id="ab-results")),
        ],
        className="page",
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
        Input("live-snapshot", "data"),
    )
    async def pnl(days, strategy_id, model_id, league, market_type, snapshot):
        filtered = days != DEFAULT_DAYS or any((strategy_id, model_id, league, market_type))
        if snapshot and dash.ctx.triggered_id == "live-snapshot" and not filtered:
            rows = snapshot["daily_pnl"]  # the stream's read: no query per page
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

    @app.callback(
        Output("positions", "children"),
        Input("url", "pathname"),
        Input("live-snapshot", "data"),
    )
    async def positions(_, snapshot):
        if snapshot and dash.ctx.triggered_id == "live-snapshot":
            rows = snapshot["current_positions"]
        else:
            rows = await fetch("current_positions")
        columns = [
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
        ]
        return table("positions-table", rows, columns, "No open positions")

    @app.callback(Output("strategy-comparison", "children"), Input("strategy-name", "value"))
    async def strategy_comparison(strategy_name):
        rows = (
            await fetch("strategy_comparison", strategy_name=strategy_name) if strategy_name else []
        )
        columns = [
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
        return table("strategy-table", rows, columns, "No strategies have traded yet")

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
        columns = [
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
        capture_columns = [
            "model_name",
            "strategy_name",
            "strategy_version",
            "closing_trades",
            "predicted_edge",
            "realized_edge",
            "capture_ratio",
            "realized_pnl",
        ]
        return (
            choices,
            choices[0]["value"] if choices else None,
            leagues,
            table("accuracy-table", accuracy, columns, "No resolved forecasts yet"),
            table("edge-capture-table", capture, capture_columns, "No closed trades yet"),
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

    @app.callback(
        Output("market-type-win-rates", "figure"),
        Output("market-overview", "children"),
        Output("ab-results", "children"),
        Input("url", "pathname"),
    )
    async def markets_and_experiments(_):
        markets, tests = await fetch("market_overview"), await fetch("ab_test_results")
        columns = [
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
        return (
            win_rate_figure(markets),
            table("markets-table", markets, columns, "No open markets"),
            experiments(tests),
        )

    return app


def _distinct(rows: list[dict], key: str) -> list[dict]:
    seen: dict[Any, dict] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())
