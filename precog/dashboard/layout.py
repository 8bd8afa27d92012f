"""What the desk's page shows as it opens: every panel read at once (read_opening) and drawn
into the layout Dash serves, so the page draws in one pass, with no round of callbacks (each
a round trip) before anything shows. page.py answers what changes after."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dash import dcc, html

from precog.dashboard.figures import (
    calibration_figure,
    experiments,
    money,
    pnl_figure,
    table,
    win_rate_figure,
)
from precog.dashboard.panels import PANELS
from precog.dashboard.reader import Reader

log = logging.getLogger(__name__)

DEFAULT_DAYS = PANELS["daily_pnl"]["days"]
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


# --- what the page opens with -------------------------------------------------------------------


@dataclass
class Opening:
    """Every panel's rows as the page opens. The layout carries them, so the page draws in one
    pass: no round of callbacks, each a round trip, before anything shows."""

    filters: list[dict] = field(default_factory=list)
    daily_pnl: list[dict] = field(default_factory=list)
    positions: list[dict] = field(default_factory=list)
    strategy_name: str | None = None
    strategy_comparison: list[dict] = field(default_factory=list)
    accuracy: list[dict] = field(default_factory=list)
    model_id: int | None = None
    calibration: list[dict] = field(default_factory=list)
    edge_capture: list[dict] = field(default_factory=list)
    markets: list[dict] = field(default_factory=list)
    experiments: list[dict] = field(default_factory=list)


def read_opening(reader: Reader, pool: ThreadPoolExecutor) -> Opening:
    """The panels' reads, side by side on `pool`; the two that depend on another (the strategy
    to compare, the model to draw) follow it. A read that fails leaves its panel empty (and
    logged): the rest of the page still opens."""

    def read(panel: str, **given: Any) -> Future:
        return pool.submit(reader.fetch, panel, **given)

    filters, accuracy = read("dashboard_filters"), read("model_accuracy")
    daily_pnl, positions = read("daily_pnl"), read("current_positions")
    edge_capture, markets = read("edge_capture"), read("market_overview")
    ab_tests = read("ab_test_results")
    opening = Opening(filters=_rows(filters, "dashboard_filters"))
    opening.strategy_name = _first_strategy(opening.filters)
    comparison = (
        read("strategy_comparison", strategy_name=opening.strategy_name)
        if opening.strategy_name
        else None
    )
    opening.accuracy = _rows(accuracy, "model_accuracy")
    models = _distinct(opening.accuracy, "model_id")
    opening.model_id = models[0]["model_id"] if models else None
    calibration = (
        read("calibration_curve", model_id=opening.model_id, league="ALL")
        if opening.model_id is not None
        else None
    )
    opening.daily_pnl = _rows(daily_pnl, "daily_pnl")
    opening.positions = _rows(positions, "current_positions")
    opening.edge_capture = _rows(edge_capture, "edge_capture")
    opening.markets = _rows(markets, "market_overview")
    opening.experiments = _rows(ab_tests, "ab_test_results")
    opening.strategy_comparison = _rows(comparison, "strategy_comparison")
    opening.calibration = _rows(calibration, "calibration_curve")
    return opening


def _rows(read: Future | None, panel: str) -> list[dict]:
    if read is None:
        return []
    try:
        return read.result()
    except Exception:
        log.exception("the page opens without panel %s", panel)
        return []


def _first_strategy(filters: list[dict]) -> str | None:
    names = sorted({row["strategy_name"] for row in filters})
    default = PANELS["strategy_comparison"]["strategy_name"]
    return default if default in names else (names[0] if names else None)


# --- the page -----------------------------------------------------------------------------------


def section(title: str, anchor: str, *children: Any) -> html.Section:
    """A panel; its anchor is the URL of its dbt exposure (models/marts/_exposures.yml)."""
    return html.Section([html.H2(title), *children], id=anchor, className="panel")


def layout(opening: Opening) -> html.Div:
    return html.Div(
        [
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
            _kpis(opening.daily_pnl),
            _pnl_section(opening),
            section(
                "Positions",
                "positions-panel",
                html.Div(positions(opening.positions), id="positions"),
            ),
            section(
                "Strategy comparison",
                "strategy-comparison-panel",
                dcc.Dropdown(
                    id="strategy-name",
                    options=sorted({row["strategy_name"] for row in opening.filters}),
                    value=opening.strategy_name,
                    clearable=False,
                    style={"maxWidth": 300},
                ),
                html.Div(strategy_table(opening.strategy_comparison), id="strategy-comparison"),
            ),
            _model_section(opening),
            section(
                "Market overview",
                "market-overview-panel",
                dcc.Graph(id="market-type-win-rates", figure=win_rate_figure(opening.markets)),
                html.Div(
                    table("markets-table", opening.markets, MARKET_COLUMNS, "No open markets"),
                    id="market-overview",
                ),
            ),
            section(
                "A/B tests",
                "ab-tests-panel",
                html.Div(experiments(opening.experiments), id="ab-results"),
            ),
        ],
        className="page",
    )


KPIS = [
    ("today's net P&L", "today-pnl"),
    ("today's trades", "today-trades"),
    ("window net P&L", "window-pnl"),
    ("drawdown now", "window-drawdown"),
]


def kpi_values(rows: list[dict]) -> tuple[str, str, str, str]:
    """The figures above the chart, in KPIS' order, from the P&L panel's rows."""
    today = next((row for row in rows if row["is_today"]), None)
    return (
        money(today["net_pnl"] if today else 0),
        str(today["total_trades"] if today else 0),
        money(sum((Decimal(row["net_pnl"]) for row in rows), Decimal(0))),
        money(rows[-1]["drawdown"] if rows else 0),
    )


def _kpis(rows: list[dict]) -> html.Div:
    return html.Div(
        [
            html.Div([html.Small(label), html.Strong(value, id=anchor)])
            for (label, anchor), value in zip(KPIS, kpi_values(rows), strict=True)
        ],
        className="kpis",
    )


def _pnl_section(opening: Opening) -> html.Section:
    def options(key: str, label) -> list[dict]:
        return [{"label": label(r), "value": r[key]} for r in _distinct(opening.filters, key)]

    dropdown = {"clearable": True, "style": {"minWidth": 180}}
    filters = [
        dcc.Dropdown(
            id="filter-days",
            options=[{"label": f"last {d} days", "value": d} for d in DAYS],
            value=DEFAULT_DAYS,
            clearable=False,
            style={"minWidth": 150},
        ),
        dcc.Dropdown(
            id="filter-strategy",
            options=options(
                "strategy_id", lambda r: f"{r['strategy_name']} {r['strategy_version']}"
            ),
            placeholder="all strategies",
            **dropdown,
        ),
        dcc.Dropdown(
            id="filter-model",
            options=options("model_id", lambda r: f"{r['model_name']} {r['model_version']}"),
            placeholder="all models",
            **dropdown,
        ),
        dcc.Dropdown(
            id="filter-league",
            options=options("league", lambda r: r["league"]),
            placeholder="all leagues",
            **dropdown,
        ),
        dcc.Dropdown(
            id="filter-market-type",
            options=options("market_type", lambda r: r["market_type"]),
            placeholder="all market types",
            **dropdown,
        ),
    ]
    return section(
        "P&L",
        "pnl-panel",
        html.Div(filters, className="filters"),
        dcc.Graph(id="pnl-chart", figure=pnl_figure(opening.daily_pnl)),
    )


def _model_section(opening: Opening) -> html.Section:
    choices = [
        dcc.Dropdown(
            id="calibration-model",
            options=[
                {"label": f"{r['model_name']} {r['model_version']}", "value": r["model_id"]}
                for r in _distinct(opening.accuracy, "model_id")
            ],
            value=opening.model_id,
            clearable=False,
            style={"minWidth": 250},
        ),
        dcc.Dropdown(
            id="calibration-league",
            options=sorted({row["league"] for row in opening.accuracy} | {"ALL"}),
            value="ALL",
            clearable=False,
            style={"minWidth": 120},
        ),
    ]
    return section(
        "Model accuracy",
        "model-accuracy-panel",
        html.Div(choices, className="filters"),
        dcc.Graph(id="calibration-chart", figure=calibration_figure(opening.calibration)),
        html.Div(
            table(
                "accuracy-table", opening.accuracy, ACCURACY_COLUMNS, "No resolved forecasts yet"
            ),
            id="model-accuracy",
        ),
        html.H3("Edge capture"),
        html.Div(
            table(
                "edge-capture-table",
                opening.edge_capture,
                EDGE_CAPTURE_COLUMNS,
                "No closed trades yet",
            ),
            id="edge-capture",
        ),
    )


def positions(rows: list[dict]) -> list[Any]:
    held = rows[0]["positions_held"] if rows else 0
    shown = f"the {len(rows)} traded most recently of " if len(rows) < held else ""
    return [
        html.P(f"Showing {shown}{held:,} positions held.", className="caption"),
        table("positions-table", rows, POSITION_COLUMNS, "No open positions"),
    ]


def strategy_table(rows: list[dict]) -> Any:
    return table("strategy-table", rows, STRATEGY_COLUMNS, "No strategies have traded yet")


def _distinct(rows: list[dict], key: str) -> list[dict]:
    seen: dict[Any, dict] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())
