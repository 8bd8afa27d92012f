"""The connection rule, the embedded default and the migrations, on real servers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration import database


def precog(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        capture_output=True,
        text=True,
        env=env,
    )


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
        assert database.stop_embedded()
    with pytest.raises(database.DatabaseError, match="not running"):
        database.warehouse(start=False)
    assert not database.stop_embedded()


def test_pghost_selects_an_external_server(warehouse, monkeypatch):
    # The embedded server's socket stands in for any server named by the libpq variables.
    for name, value in warehouse.libpq_env().items():
        monkeypatch.setenv(name, value)
    external = database.warehouse()
    assert not external.embedded and external.host == warehouse.host
    with database.transaction(external) as cursor:
        cursor.execute("select current_database()")
        assert cursor.fetchone()[0] == warehouse.dbname
    result = precog("db", "url")
    assert result.returncode == 0 and result.stdout.strip() == warehouse.url()
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
