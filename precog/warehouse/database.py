"""Where the warehouse is, for every part of the project.

One rule: the standard libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) when
PGHOST is set; otherwise the embedded default, a private PostgreSQL started from the `pgserver`
wheel with its data under `.precog/` in the project. PGDATABASE picks the database in both cases.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from precog import PROJECT_ROOT
from precog.warehouse import embedded

EMBEDDED_DATABASE = "precog"
# The landing tables of schema raw (migrations/0001_raw_source_contract.sql).
RAW_TABLES = (
    "markets",
    "strategies",
    "probability_models",
    "positions",
    "trades",
    "edges",
    "model_predictions",
    "ab_experiments",
    "ab_test_assignments",
    "trade_import_rejects",
    "trade_import_lines",
)


class DatabaseError(RuntimeError):
    """The warehouse cannot be reached or prepared; the message says what to do."""


@dataclass(frozen=True)
class Warehouse:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    embedded: bool

    def libpq_env(self) -> dict[str, str]:
        """The libpq variables that point any client (psql, dbt, Dagster) at this warehouse."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }

    def url(self, driver: str = "postgresql", dbname: str | None = None) -> str:
        """A SQLAlchemy-style URL; a socket directory goes in the `host` query parameter."""
        auth = quote(self.user) + (":" + quote(self.password) if self.password else "")
        database = quote(dbname or self.dbname)
        if self.host.startswith("/"):
            return f"{driver}://{auth}@/{database}?host={self.host}&port={self.port}"
        return f"{driver}://{auth}@{self.host}:{self.port}/{database}"

    def dagster_env(self) -> dict[str, str]:
        """Where Dagster keeps its instance: dagster.yaml in the project, runs and events in
        database <dbname>_dagster on the same server."""
        return {
            "DAGSTER_HOME": str(PROJECT_ROOT),
            "DAGSTER_POSTGRES_URL": self.url("postgresql+psycopg2", dbname=self.dagster_dbname),
            "DAGSTER_ARTIFACTS_DIR": str(embedded.data_dir() / "dagster"),
            "DAGSTER_COMPUTE_LOGS_DIR": str(embedded.data_dir() / "dagster" / "compute_logs"),
        }

    @property
    def dagster_dbname(self) -> str:
        return f"{self.dbname}_dagster"

    def describe(self) -> str:
        where = "embedded server" if self.embedded else "external server (PGHOST)"
        return f"{where}: host={self.host} port={self.port} user={self.user} dbname={self.dbname}"


def is_external() -> bool:
    """Whether PGHOST names another server than the embedded one (`eval "$(precog db env)"`
    exports the embedded server's own socket folder, which is still the embedded server)."""
    host = os.environ.get("PGHOST")
    if not host:
        return False
    running = embedded.postmaster()
    socket_dir = running.socket_dir if running else embedded.pgdata()
    return str(socket_dir) != host


def warehouse(start: bool = True) -> Warehouse:
    """The warehouse in use; starts the embedded server on demand unless `start` is False."""
    if is_external():
        user = os.environ.get("PGUSER") or os.environ.get("USER") or "postgres"
        return Warehouse(
            host=os.environ["PGHOST"],
            port=int(os.environ.get("PGPORT") or 5432),
            user=user,
            password=os.environ.get("PGPASSWORD", ""),
            dbname=os.environ.get("PGDATABASE") or user,
            embedded=False,
        )
    try:
        info = embedded.start() if start else embedded.postmaster()
    except embedded.EmbeddedServerError as error:
        raise DatabaseError(str(error)) from error
    if info is None:
        raise DatabaseError("the embedded server is not running: run `precog db start`")
    return Warehouse(
        host=str(info.socket_dir),
        port=int(info.port),
        user="postgres",
        password="",
        dbname=os.environ.get("PGDATABASE") or EMBEDDED_DATABASE,
        embedded=True,
    )


def connect(target: Warehouse | None = None, dbname: str | None = None, **options):
    """A psycopg2 connection to the warehouse (or to another database on the same server);
    `options` are libpq's (e.g. connect_timeout)."""
    target = target or warehouse()
    try:
        return psycopg2.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password or None,
            dbname=dbname or target.dbname,
            **{"application_name": "precog", **options},
        )
    except psycopg2.OperationalError as error:
        message = str(error).strip().splitlines()[0]
        raise DatabaseError(f"cannot connect to {target.describe()}: {message}") from error


def answers(target: Warehouse) -> bool:
    """Whether the server accepts a connection within a few seconds."""
    try:
        connect(target, connect_timeout=5).close()
    except DatabaseError:
        return False
    return True


@contextlib.contextmanager
def transaction(target: Warehouse | None = None) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor inside one transaction: committed on success, rolled back on error."""
    connection = connect(target)
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def ensure_database(target: Warehouse, dbname: str | None = None) -> bool:
    """Create the target's database (or `dbname` on its server) if missing; True if created."""
    dbname = dbname or target.dbname
    try:
        connection = connect(target, dbname=dbname)
        connection.close()
        return False
    except DatabaseError as error:
        if "does not exist" not in str(error):
            raise
    admin = connect(target, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    except psycopg2.errors.DuplicateDatabase:
        return False
    finally:
        admin.close()
    return True


def drop_database(target: Warehouse, dbname: str) -> None:
    """Drop database `dbname` on the target's server, sessions and all, if it exists."""
    admin = connect(target, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
            )
    finally:
        admin.close()


def migrate(target: Warehouse | None = None) -> list[str]:
    """Apply the SQL files in precog/warehouse/migrations not applied yet; returns their names.

    Each file is also written to be re-runnable, so a database populated before the migration
    table existed is still safe.
    """
    target = target or warehouse()
    ensure_database(target)
    files = sorted(
        (entry.name, entry.read_text())
        for entry in resources.files("precog.warehouse.migrations").iterdir()
        if entry.name.endswith(".sql")
    )
    applied_now = []
    with server_setup_lock(target), transaction(target) as cursor:
        cursor.execute(
            "create schema if not exists precog_meta;"
            "create table if not exists precog_meta.schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        cursor.execute("select name from precog_meta.schema_migrations")
        done = {row[0] for row in cursor.fetchall()}
        for name, sql in files:
            if name in done:
                continue
            cursor.execute(sql)
            cursor.execute("insert into precog_meta.schema_migrations (name) values (%s)", (name,))
            applied_now.append(name)
        if applied_now:  # dbt recreates every view: raw's columns may have changed
            cursor.execute("delete from precog_meta.view_builds")
    return applied_now


def prepare() -> Warehouse:
    """The warehouse, started if embedded, with its database, schemas and Dagster's database
    in place."""
    target = warehouse()
    migrate(target)
    with server_setup_lock(target):
        ensure_database(target, target.dagster_dbname)
        # bi_reader reaches the warehouse only: Dagster's database is the project's own, and so
        # is the whole embedded server. (On a shared server, its administrator closes the
        # others.)
        close_to_public(target, target.dagster_dbname)
        if target.embedded:
            for name in ("postgres", "template1"):
                close_to_public(target, name)
            # BI tools log in over 127.0.0.1 with it (embedded.py); a role is the server's.
            with transaction(target) as cursor:
                cursor.execute("alter role bi_reader password %s", (embedded.bi_reader_password(),))
    return target


def bi_reader_url(target: Warehouse) -> str:
    """A URL a BI tool can use as is: the embedded server on 127.0.0.1 with bi_reader's
    password; on another server, its host and port as bi_reader (its administrator gives the
    password)."""
    if target.embedded:
        running = embedded.postmaster()
        if running is None or running.hostname != "127.0.0.1":
            raise DatabaseError(
                "the embedded server listens on its socket only (started before this version):"
                " restart it with `precog db stop` and `precog db start`"
            )
        reader = Warehouse(
            "127.0.0.1",
            embedded.port(),
            "bi_reader",
            embedded.bi_reader_password(),
            target.dbname,
            embedded=True,
        )
    else:
        reader = Warehouse(target.host, target.port, "bi_reader", "", target.dbname, embedded=False)
    return reader.url()


@contextlib.contextmanager
def server_setup_lock(target: Warehouse) -> Iterator[None]:
    """One set-up at a time on the whole server. Migrations and grants change objects every
    database shares (role bi_reader, the databases' privileges), and PostgreSQL refuses two
    concurrent changes of one ("tuple concurrently updated"); an advisory lock is per database,
    so it is taken in database `postgres`, where every set-up of the server meets (or in the
    warehouse's own database, on a server where the project's role cannot reach `postgres`)."""
    try:
        admin = connect(target, dbname="postgres")
    except DatabaseError:
        admin = connect(target)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(hashtext('precog server set-up'))")
        yield
    finally:
        admin.close()  # and the lock with the session


def close_to_public(target: Warehouse, dbname: str) -> None:
    """Only superusers, the owner and the roles granted CONNECT reach `dbname`; a database the
    project's role does not own is left to its owner, with a warning."""
    try:
        with transaction(target) as cursor:
            cursor.execute(
                sql.SQL("revoke connect, temporary on database {} from public").format(
                    sql.Identifier(dbname)
                )
            )
    except psycopg2.errors.InsufficientPrivilege:
        warnings.warn(
            f"database {dbname} stays open to PUBLIC: {target.user} does not own it",
            stacklevel=2,
        )
