"""`precog dashboard`: the page, the API, the live stream and the metrics in one server
(uvicorn), bound to 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import contextlib
import logging

import uvicorn
from fastapi import FastAPI

from precog.dashboard import panels
from precog.dashboard.api import create_api
from precog.dashboard.live import LiveFeed
from precog.dashboard.metrics import Metrics
from precog.dashboard.page import mount
from precog.dashboard.reader import Reader
from precog.warehouse.database import Warehouse


def create_app(target: Warehouse, as_of: str | None = None) -> FastAPI:
    """The whole server as an ASGI app: compiles the panels' queries, then serves."""
    reader = Reader(target, panels.compile_panels(target), as_of=as_of)
    feed = LiveFeed(reader)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):
        feed.start()
        try:
            yield
        finally:
            feed.stop()
            reader.close()

    api = create_api(reader, feed, Metrics(reader, feed))
    api.router.lifespan_context = lifespan
    mount(api, reader)
    return api


def serve(target: Warehouse, host: str, port: int, as_of: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(target, as_of=as_of)
    print(f"precog dashboard: http://{host}:{port}/  (API: /docs, live: /api/live, /metrics)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
