"""Dagster resources: the warehouse every asset runs against."""

from __future__ import annotations

import os

import dagster as dg

from orchestration import database


class WarehouseResource(dg.ConfigurableResource):
    """The project's warehouse (PGHOST, else the embedded default), migrated and ready.

    Setting it up exports its libpq variables, so the dbt processes Dagster starts reach the
    same database as everything else.
    """

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        target = database.prepare()
        os.environ.update(target.libpq_env())
        context.log.info(f"warehouse: {target.describe()}")
