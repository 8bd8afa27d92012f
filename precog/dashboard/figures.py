"""What the page draws from a panel's rows: money to the cent, rates as percentages, tables,
Plotly figures, the A/B verdicts; a panel with no rows says so."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import plotly.graph_objects as go
from dash import dash_table, html

CENT = Decimal("0.01")
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
