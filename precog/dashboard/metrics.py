"""GET /metrics in Prometheus' format, with the source document's names: the API's request
durations by endpoint, the open live connections, and, read from marts.model_builds at each
scrape, each rollup level's freshness and each table's last rebuild. Alert thresholds:
monitoring/alerts.yml."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg2
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from precog.dashboard.live import LiveFeed
from precog.dashboard.reader import Reader
from precog.warehouse import database

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    def __init__(self, reader: Reader, feed: LiveFeed):
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "api_request_duration_seconds",
            "API request duration",
            ["endpoint"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Warehouse(reader, feed))


class _Warehouse:
    """What is read at scrape time: the live feed's state and the builds' bookkeeping."""

    def __init__(self, reader: Reader, feed: LiveFeed):
        self.reader, self.feed = reader, feed

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "live_connections_active",
            "Open live streams (GET /api/live)",
            value=self.feed.connections,
        )
        yield CounterMetricFamily(
            "live_snapshots", "Snapshots of the live panels read", value=self.feed.snapshots
        )
        freshness = GaugeMetricFamily(
            "aggregation_freshness_seconds",
            "Seconds since the rollup level was last built",
            labels=["aggregation_level"],
        )
        rebuilt = GaugeMetricFamily(
            "mart_last_rebuild_timestamp_seconds",
            "When the table's last build started (Unix time)",
            labels=["model"],
        )
        duration = GaugeMetricFamily(
            "mart_rebuild_duration_seconds",
            "How long the table's last build took",
            labels=["model"],
        )
        try:
            builds = self.reader.fetch("model_builds")
        except (psycopg2.Error, database.DatabaseError):
            builds = None
        yield GaugeMetricFamily(
            "warehouse_up", "Whether the warehouse answered this scrape", value=builds is not None
        )
        for row in builds or []:
            if row["aggregation_level"]:
                freshness.add_metric([row["aggregation_level"]], float(row["age_seconds"]))
            rebuilt.add_metric([row["model"]], _epoch(row["built_at"]))
            if row["build_seconds"] is not None:
                duration.add_metric([row["model"]], float(row["build_seconds"]))
        yield from (freshness, rebuilt, duration)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
