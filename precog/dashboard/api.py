"""The dashboard's API: one endpoint per panel, each answering its panel's query (panels.py)
with money as decimal strings; the live stream; the metrics. FastAPI validates the parameters
(a 422 that names the parameter) and publishes the OpenAPI schema (/openapi.json, /docs)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sse_starlette.sse import EventSourceResponse

from precog.dashboard.live import LiveFeed
from precog.dashboard.metrics import Metrics
from precog.dashboard.reader import Reader

Rows = list[dict[str, Any]]
Text = Annotated[str | None, Query(min_length=1, max_length=100)]


def create_api(reader: Reader, feed: LiveFeed, metrics: Metrics) -> FastAPI:
    api = FastAPI(
        title="precog desk",
        summary="The desk's P&L, positions, strategies, models, markets and A/B tests, from "
        "the marts. Money and rates are decimal strings.",
        version="1",
    )
    api.include_router(_panel_routes(reader))
    api.include_router(_live_routes(feed))
    _monitor(api, metrics)
    return api


def _monitor(api: FastAPI, metrics: Metrics) -> None:
    """Each API request's duration by endpoint, and GET /metrics in Prometheus' format."""

    @api.middleware("http")
    async def time_requests(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "")
        if path.startswith("/api/") and path != "/api/live":
            metrics.request_duration.labels(path).observe(time.perf_counter() - started)
        return response

    @api.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _panel_routes(reader: Reader) -> APIRouter:
    """One endpoint per panel."""
    router = APIRouter(prefix="/api")

    @router.get("/performance/daily")
    def daily_performance(
        days: Annotated[int, Query(ge=1, le=365, description="Days before today")] = 30,
        strategy_id: Annotated[int | None, Query(ge=1)] = None,
        model_id: Annotated[int | None, Query(ge=1)] = None,
        league: Text = None,
        market_type: Text = None,
    ) -> Rows:
        """Daily net P&L of the last `days` days and today (live), with the running total and
        drawdown: rows with `date` and `net_pnl` (analyses/daily_pnl.sql)."""
        return reader.fetch(
            "daily_pnl",
            days=days,
            strategy_id=strategy_id,
            model_id=model_id,
            league=league,
            market_type=market_type,
        )

    @router.get("/positions/current")
    def current_positions(limit: Annotated[int, Query(ge=1, le=100_000)] = 100) -> Rows:
        """The positions held now, with unrealized P&L, live, the most recently traded first;
        `positions_held` counts them all (analyses/current_positions.sql)."""
        return reader.fetch("current_positions", position_limit=limit)

    @router.get("/strategies/comparison")
    def strategy_comparison(
        strategy_name: Annotated[str, Query(min_length=1, max_length=100)] = "value_hunter",
        versions: Annotated[
            str | None, Query(description="Comma-separated versions; all when absent")
        ] = None,
    ) -> Rows:
        """Versions of a strategy side by side, per league and market type and over all of them
        (league 'ALL'), rates from summed components (analyses/strategy_comparison.sql)."""
        chosen = [v.strip() for v in versions.split(",") if v.strip()] if versions else None
        return reader.fetch("strategy_comparison", strategy_name=strategy_name, versions=chosen)

    @router.get("/models/accuracy")
    def model_accuracy() -> Rows:
        """Each model's calibration metrics by league (analyses/model_accuracy.sql)."""
        return reader.fetch("model_accuracy")

    @router.get("/models/edge-capture")
    def edge_capture() -> Rows:
        """How much predicted edge each model's strategies captured (analyses/edge_capture.sql)."""
        return reader.fetch("edge_capture")

    @router.get("/models/{model_id}/calibration")
    def calibration_curve(
        model_id: Annotated[int, Path(ge=1)],
        league: Annotated[str, Query(min_length=1, max_length=100)] = "ALL",
    ) -> Rows:
        """A model's reliability diagram with Wilson intervals (analyses/calibration_curve.sql)."""
        return reader.fetch("calibration_curve", model_id=model_id, league=league)

    @router.get("/markets/overview")
    def market_overview(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Rows:
        """Open markets with the largest current edges (analyses/market_overview.sql)."""
        return reader.fetch("market_overview", market_limit=limit)

    @router.get("/experiments/results")
    def experiment_results() -> Rows:
        """Each A/B experiment's tests (analyses/ab_test_results.sql)."""
        return reader.fetch("ab_test_results")

    @router.get("/filters")
    def filters() -> Rows:
        """The strategies, models, leagues and market types to filter the P&L chart by."""
        return reader.fetch("dashboard_filters")

    return router


def _live_routes(feed: LiveFeed) -> APIRouter:
    """The live stream, and its snapshot for when the stream is down."""
    router = APIRouter(prefix="/api")

    @router.get("/live/snapshot")
    def live_snapshot() -> dict[str, Any]:
        """The live panels now, as /api/live pushes them: the page's fallback when the stream
        is down."""
        return feed.snapshot()

    @router.get("/live", response_class=EventSourceResponse)
    async def live(request: Request) -> EventSourceResponse:
        """Server-Sent Events: a `snapshot` event (the live panels) after each landing in raw,
        at most one a second."""

        async def events():
            subscriber = feed.subscribe()  # here, so that the finally below always follows
            try:
                yield {"event": "ready", "data": "listening"}
                missed = feed.recent()  # what may have landed since the page was read
                if missed is not None:
                    yield {"event": "snapshot", "data": missed}
                while True:
                    yield {"event": "snapshot", "data": await subscriber.get()}
            finally:
                feed.unsubscribe(subscriber)

        return EventSourceResponse(events(), ping=15)

    return router
