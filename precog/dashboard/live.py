"""Live updates: a landing in raw (a statement-level trigger, NOTIFY precog_landed) wakes one
listener, which reads the live panels once (today's P&L and the positions, from the live views)
and pushes that snapshot to every open page over Server-Sent Events. At most one snapshot per
second: a burst of landings is coalesced, and 50 open pages cost one read per change."""

from __future__ import annotations

import asyncio
import json
import logging
import select
import threading
import time
from typing import Any

import psycopg2

from precog.dashboard.reader import Reader
from precog.warehouse import database

CHANNEL = "precog_landed"  # precog/warehouse/migrations/0009_dashboard.sql
# The panels a landing changes, read with their default parameters (the unfiltered page).
LIVE_PANELS = ("daily_pnl", "current_positions")
MIN_INTERVAL = 1.0  # seconds between two snapshots, as the source document asks
log = logging.getLogger(__name__)


class LiveFeed:
    def __init__(self, reader: Reader, min_interval: float = MIN_INTERVAL):
        self.reader = reader
        self.min_interval = min_interval
        self.snapshots = 0  # how many were read (GET /metrics)
        self._latest: tuple[float, str] | None = None  # (when, the last snapshot pushed)
        self._subscribers: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the page side ---------------------------------------------------------------------

    @property
    def connections(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> asyncio.Queue:
        self._loop = asyncio.get_running_loop()
        subscriber: asyncio.Queue = asyncio.Queue(maxsize=10)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: asyncio.Queue) -> None:
        self._subscribers.discard(subscriber)

    def recent(self, seconds: float = 30.0) -> str | None:
        """The last snapshot pushed, if it is at most `seconds` old: what a page that has just
        read the panels may have missed while it connected (an older one would be stale: a run
        or midnight since)."""
        if self._latest is None or time.monotonic() - self._latest[0] > seconds:
            return None
        return self._latest[1]

    def snapshot(self) -> dict[str, Any]:
        """The live panels now, as the stream sends them (also the polling fallback's answer)."""
        self.snapshots += 1
        data: dict[str, Any] = {name: self.reader.fetch(name) for name in LIVE_PANELS}
        data["read_at"] = time.time()
        return data

    def _publish(self) -> None:
        message = json.dumps(self.snapshot())
        self._latest = (time.monotonic(), message)
        loop = self._loop
        if loop is None:
            return
        for subscriber in list(self._subscribers):
            loop.call_soon_threadsafe(_offer, subscriber, message)

    # --- the database side -----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen_forever, name="live-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (psycopg2.Error, OSError, database.DatabaseError) as error:
                log.warning("live feed: %s; listening again in 1 s", str(error).strip())
                self._stop.wait(1.0)

    def _listen(self) -> None:
        connection = self.reader.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"listen {CHANNEL}")
            # What landed while no one listened (a start, a reconnect) is read once now.
            pending, last = True, 0.0
            while not self._stop.is_set():
                wait = max(0.0, last + self.min_interval - time.monotonic()) if pending else 1.0
                if select.select([connection], [], [], wait)[0]:
                    connection.poll()
                    if connection.notifies:
                        connection.notifies.clear()
                        pending = True
                if pending and time.monotonic() - last >= self.min_interval:
                    pending, last = False, time.monotonic()
                    if self._subscribers:
                        self._publish()
                    else:  # a change no page saw: the last snapshot is older than the panels
                        self._latest = None
        finally:
            connection.close()


def _offer(subscriber: asyncio.Queue, message: str) -> None:
    """Queue a snapshot for one page; a page that has not taken the last ten gets the newest
    only (snapshots are whole, an older one is worth nothing)."""
    if subscriber.full():
        while not subscriber.empty():
            subscriber.get_nowait()
    subscriber.put_nowait(message)
