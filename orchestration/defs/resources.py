"""The warehouse every asset and check runs against, built once for the code location."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from precog import reporting_timezone
from precog.warehouse import bookkeeping, database


class WarehouseResource(dg.ConfigurableResource):
    """The project's warehouse (PGHOST, else the embedded default), migrated and ready. The dbt
    processes Dagster starts resolve it by the same rule (precog/pipeline/dbt_child.py)."""

    _target: database.Warehouse | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._target = database.prepare()
        context.log.info(f"warehouse: {self._target.describe()}")

    @property
    def target(self) -> database.Warehouse:
        if self._target is None:  # used outside a run (e.g. a direct invocation in a test)
            self._target = database.warehouse()
        return self._target

    def connect(self):
        """A psycopg2 connection to the warehouse; the caller closes it."""
        return database.connect(self.target)

    def sqlalchemy_url(self) -> str:
        # postgresql+psycopg2:// explicitly: SQLAlchemy 2.1 would default to psycopg 3.
        return self.target.url("postgresql+psycopg2")

    def full_refresh_owed(self, models: list[str]) -> str | None:
        """Why the incremental `models` must be rebuilt whole, or None (bookkeeping)."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                return bookkeeping.full_refresh_owed(cursor, models, reporting_timezone())
        finally:
            connection.close()

    def relation_exists(self, relation: str) -> bool:
        """Whether `schema.name` is a table or view of the warehouse."""
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute("select to_regclass(%s) is not null", (relation,))
                return cursor.fetchone()[0]
        finally:
            connection.close()


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": WarehouseResource()})
