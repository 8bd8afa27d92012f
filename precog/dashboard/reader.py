"""The dashboard's only way into the warehouse: role bi_reader, schema marts, the panels'
queries (panels.py). A few connections, reused; the desk's clock pinned when asked."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
from collections.abc import Iterator
from typing import Any

import psycopg2
import psycopg2.errors

from precog.dashboard import panels
from precog.warehouse import database

ROLE = "bi_reader"
# The password bi_reader logs in with where the server asks for one.
PASSWORD_VARIABLE = "PRECOG_BI_READER_PASSWORD"
APPLICATION = "precog-dashboard"  # how its sessions show in pg_stat_activity
POOL_SIZE = 8  # idle connections kept
log = logging.getLogger(__name__)


class Reader:
    """Runs the panels' queries as bi_reader, each in its own read-only autocommit statement."""

    def __init__(
        self, target: database.Warehouse, queries: dict[str, str], as_of: str | None = None
    ):
        self.target = dataclasses.replace(
            target, user=ROLE, password=os.environ.get(PASSWORD_VARIABLE, "")
        )
        self.queries = queries
        # The desk's "now" (macros/clock.sql): a replay of a past day, or a test's fixed clock.
        self.options = f"-c precog.now={as_of.replace(' ', 'T')}" if as_of else None
        self._idle: queue.LifoQueue = queue.LifoQueue()

    def connect(self):
        """A new connection as bi_reader (the live feed keeps one of its own)."""
        options = {"options": self.options} if self.options else {}
        connection = database.connect(self.target, application_name=APPLICATION, **options)
        connection.autocommit = True
        return connection

    @contextlib.contextmanager
    def _session(self) -> Iterator[_Session]:
        try:
            session = self._idle.get_nowait()
        except queue.Empty:
            session = _Session(self.connect())
        try:
            yield session
        except psycopg2.OperationalError:
            # The server went away (a restart): the idle connections went with this one, and
            # the next call connects again.
            session.connection.close()
            self.close()
            raise
        else:
            if self._idle.qsize() < POOL_SIZE:
                self._idle.put(session)
            else:
                session.connection.close()

    def fetch(self, panel: str, **given: Any) -> list[dict[str, Any]]:
        """The panel's rows, as dicts of JSON-ready values (panels.plain). A connection the
        server dropped (a restart) is replaced once."""
        try:
            return self._fetch(panel, **given)
        except psycopg2.OperationalError:
            return self._fetch(panel, **given)

    def _fetch(self, panel: str, **given: Any) -> list[dict[str, Any]]:
        sql, values = self.queries[panel], panels.parameters(panel, **given)
        with self._session() as session, session.connection.cursor() as cursor:
            try:
                if values == panels.PANELS[panel]:
                    # The panel as the page opens and as the live feed reads it: prepared once
                    # per session with its values, so planned once (planning the live views
                    # costs more than running them). Other values: planned for those values.
                    if panel not in session.prepared:
                        query = cursor.mogrify(sql, values).decode()
                        cursor.execute(f"prepare panel_{panel} as {query}")  # a PANELS name
                        session.prepared.add(panel)
                    cursor.execute(f"execute panel_{panel}")
                else:
                    cursor.execute(sql, values)
            except psycopg2.errors.UndefinedTable as error:
                # A desk whose pipeline has not run yet: an empty panel, not an error page.
                log.warning("%s: %s (run `precog run`)", panel, str(error).splitlines()[0])
                return []
            names = [column.name for column in cursor.description]
            return [
                {name: panels.plain(value) for name, value in zip(names, row, strict=True)}
                for row in cursor.fetchall()
            ]

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().connection.close()


@dataclasses.dataclass
class _Session:
    """A pooled connection and the panels it has prepared (with their default values)."""

    connection: Any
    prepared: set[str] = dataclasses.field(default_factory=set)
