"""The connection rule, the embedded default and the migrations, on real servers."""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from precog.warehouse import database, embedded
from tests.helpers import precog_command


def precog(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(precog_command(*args), capture_output=True, text=True, env=env)


def test_embedded_default_starts_serves_and_stops(tmp_path, monkeypatch):
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.setenv("PRECOG_DATA_DIR", str(tmp_path / "embedded"))
    target = database.warehouse()
    try:
        assert target.embedded and target.dbname == database.EMBEDDED_DATABASE
        assert database.migrate(target)  # creates the database and applies every file
        with database.transaction(target) as cursor:
            cursor.execute(
                "select count(*) from information_schema.tables where table_schema='raw'"
            )
            assert cursor.fetchone()[0] >= 9
        assert database.warehouse() == target  # idempotent start: same server
    finally:
        assert embedded.stop()
    with pytest.raises(database.DatabaseError, match="not running"):
        database.warehouse(start=False)
    assert not embedded.stop()


def test_a_bi_tool_reaches_the_embedded_marts_over_localhost(tmp_path, monkeypatch):
    """`precog db url --role bi_reader` is a URL a BI tool uses as is: 127.0.0.1, bi_reader and
    its generated password, reading marts. Over TCP no other role gets in, nor a wrong
    password; after `eval "$(precog db env)"` the embedded server is still the embedded one."""
    monkeypatch.delenv("PGHOST", raising=False)
    monkeypatch.setenv("PRECOG_DATA_DIR", str(tmp_path / "embedded"))
    try:
        url = precog("db", "url", "--role", "bi_reader").stdout.strip()
        assert url.startswith(f"postgresql://bi_reader:{embedded.bi_reader_password()}@127.0.0.1:")
        reader = psycopg2.connect(url)
        with reader, reader.cursor() as cursor:
            cursor.execute("select count(*) from marts.ab_test_results")
            assert cursor.fetchone() == (0,)
        reader.close()
        owner = database.warehouse()
        tcp = dataclasses.replace(owner, host="127.0.0.1", port=embedded.port())
        for refused in (tcp, dataclasses.replace(tcp, user="bi_reader", password="wrong")):
            with pytest.raises(database.DatabaseError, match=r"pg_hba\.conf rejects|password"):
                database.connect(refused)
        monkeypatch.setenv("PGHOST", owner.host)  # what `precog db env` exports
        assert "embedded server" in precog("db", "status").stdout
    finally:
        assert "stopped" in precog("db", "stop").stdout


def test_pghost_selects_an_external_server(warehouse, monkeypatch):
    # Any server named by the libpq variables: the test's server, its socket folder (if it is
    # the embedded one's) under another name, since PGHOST naming the embedded server's own
    # socket folder still means the embedded server.
    named = warehouse
    if warehouse.host.startswith("/"):
        link = Path(tempfile.mkdtemp(dir="/tmp")) / "other"  # short: socket paths are limited
        link.symlink_to(warehouse.host)
        named = dataclasses.replace(warehouse, host=str(link))
    for name, value in named.libpq_env().items():
        monkeypatch.setenv(name, value)
    external = database.warehouse()
    assert not external.embedded and external.host == named.host
    with database.transaction(external) as cursor:
        cursor.execute("select current_database()")
        assert cursor.fetchone()[0] == warehouse.dbname
    result = precog("db", "url")
    assert result.returncode == 0 and result.stdout.strip() == named.url()
    result = precog("db", "stop")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "not this project's to stop" in result.stderr


def test_unreachable_server_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("PGHOST", str(tmp_path))  # a socket directory with no server in it
    result = precog("db", "start")
    assert result.returncode == 1
    assert result.stderr.startswith("precog: error: cannot connect to external server")
    assert result.stderr.count("\n") == 1


def test_migrations_are_idempotent_on_a_populated_database(warehouse, cursor):
    assert database.migrate(warehouse) == []
    cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp) values (1, 1, 'entry', 10, 0.55, 0.02, now())"
    )
    cursor.execute("delete from precog_meta.schema_migrations")  # replay every file
    assert len(database.migrate(warehouse)) >= 2
    cursor.execute("select price, fees from raw.trades")
    assert [tuple(map(str, row)) for row in cursor.fetchall()] == [("0.55", "0.02")]


def test_money_is_numeric_and_times_are_timestamptz(cursor):
    cursor.execute(
        """
        select table_name, column_name, data_type from information_schema.columns
        where table_schema = 'raw'
          and (column_name in ('price', 'fees', 'quantity', 'entry_price', 'current_price',
                               'unrealized_pnl', 'yes_bid', 'yes_ask', 'no_bid', 'no_ask',
                               'settlement_value', 'predicted_prob', 'edge', 'market_price')
               or column_name like '%\\_ts' or column_name like '%timestamp'
               or column_name = 'loaded_at')
        """
    )
    rows = cursor.fetchall()
    assert len(rows) > 30
    for table, column, data_type in rows:
        expected = (
            "timestamp with time zone"
            if column.endswith(("ts", "timestamp", "loaded_at"))
            else "numeric"
        )
        assert data_type == expected, (table, column, data_type)


def test_bi_reader_reaches_only_the_warehouse_and_writes_nowhere(warehouse):
    database.prepare()  # the warehouse of the test, with Dagster's database beside it
    reader = dataclasses.replace(warehouse, user="bi_reader", password="")
    connection = database.connect(reader)
    with pytest.raises(psycopg2.Error) as error, connection.cursor() as cursor:
        # a read-only default would give way to an explicit read-write transaction
        cursor.execute("begin read write; create temporary table scratch (id int)")
    assert error.value.pgcode == "42501", error.value.pgerror
    connection.close()
    others = [warehouse.dagster_dbname] + (["postgres", "template1"] if warehouse.embedded else [])
    for dbname in others:
        with pytest.raises(database.DatabaseError, match="permission denied"):
            database.connect(reader, dbname=dbname).close()


def test_names_from_the_environment_are_data(warehouse, monkeypatch):
    name = 'x" with owner = "bi_reader'
    try:
        assert database.ensure_database(warehouse, name)
        with database.transaction(warehouse) as cursor:
            cursor.execute(
                "select pg_get_userbyid(datdba) from pg_database where datname = %s", (name,)
            )
            assert cursor.fetchone()[0] == warehouse.user  # not bi_reader
    finally:
        database.drop_database(warehouse, name)

    # `precog db env` prints shell-quoted settings and creates nothing.
    monkeypatch.setenv("PGHOST", warehouse.host)
    monkeypatch.setenv("PGPORT", str(warehouse.port))
    monkeypatch.setenv("PGUSER", warehouse.user)
    monkeypatch.setenv("PGDATABASE", name)
    printed = precog("db", "env")
    assert printed.returncode == 0, printed.stderr
    echoed = subprocess.run(
        ["bash", "-c", 'eval "$1"; printf %s "$PGDATABASE"', "-", printed.stdout],
        capture_output=True,
        text=True,
    )
    assert echoed.stdout == name
    with database.transaction(warehouse) as cursor:
        cursor.execute("select count(*) from pg_database where datname like 'x\"%%'")
        assert cursor.fetchone()[0] == 0
