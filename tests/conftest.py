"""Every test talks to a real PostgreSQL: the server the project resolves (PGHOST, else the
embedded default), in databases created for the test session and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from precog.dbt_runner import prepare_manifest
from precog.warehouse import database, embedded


def _create(name: str) -> database.Warehouse:
    os.environ["PGDATABASE"] = name
    target = database.warehouse()
    database.drop_database(target, name)
    database.ensure_database(target, name)
    database.migrate(target)
    return target


def _drop(target: database.Warehouse) -> None:
    for name in (target.dbname, target.dagster_dbname):
        database.drop_database(target, name)


@pytest.fixture(scope="session", autouse=True)
def embedded_server_lifetime() -> Iterator[None]:
    """Leave the embedded server as the session found it: stop it if the tests started it."""
    was_running = database.is_external() or embedded.postmaster() is not None
    yield
    if not was_running:
        embedded.stop()


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    """target/manifest.json, which the Dagster definitions load: a fresh clone has none."""
    prepare_manifest()


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[database.Warehouse]:
    """A fresh, migrated, empty database; PGDATABASE points at it while the test runs."""
    monkeypatch.setenv("PGDATABASE", "unused")  # restored after the test
    target = _create(f"precog_test_{uuid.uuid4().hex[:10]}")
    yield target
    _drop(target)


@pytest.fixture
def cursor(warehouse: database.Warehouse):
    """An autocommitting cursor on the test's database."""
    connection = database.connect(warehouse)
    connection.autocommit = True
    with connection.cursor() as cur:
        yield cur
    connection.close()
