"""Every test talks to a real PostgreSQL: the server the project resolves (PGHOST, else the
embedded default), in databases created for the test session and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from precog.pipeline.dbt_runner import prepare_manifest
from precog.warehouse import database, embedded
from tests.helpers import create_database, drop_databases

SERVER_WAS_RUNNING = pytest.StashKey[bool]()

# The desks the tests simulate go live as a demo desk does (Makefile): two days back by the
# clock of the test (a fake one under make test-clock), before the definitions are imported.
os.environ["PRECOG_PARTITIONS_START"] = f"{datetime.now(UTC) - timedelta(days=2):%Y-%m-%d}"


def pytest_configure(config: pytest.Config) -> None:
    """Leave the embedded server as the session found it: the session that started it stops it.
    (With pytest-xdist, the controlling process decides, after every worker has finished.)"""
    if not hasattr(config, "workerinput"):
        config.stash[SERVER_WAS_RUNNING] = (
            database.is_external() or embedded.postmaster() is not None
        )
        database.warehouse()  # started once, before any worker needs it


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(SERVER_WAS_RUNNING, True) is False:
        embedded.stop()


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    """target/manifest.json, which the Dagster definitions load: a fresh clone has none."""
    prepare_manifest()


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[database.Warehouse]:
    """A fresh, migrated, empty database; PGDATABASE points at it while the test runs."""
    monkeypatch.setenv("PGDATABASE", "unused")  # restored after the test
    target = create_database(f"precog_test_{uuid.uuid4().hex[:10]}")
    yield target
    drop_databases(target)


@pytest.fixture
def cursor(warehouse: database.Warehouse):
    """An autocommitting cursor on the test's database."""
    connection = database.connect(warehouse)
    connection.autocommit = True
    with connection.cursor() as cur:
        yield cur
    connection.close()
