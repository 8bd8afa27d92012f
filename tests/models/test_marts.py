"""The dashboard marts, the BI contract (DESIGN.md, "Marts"): six marts with rows after a run,
each equal to a direct computation; role bi_reader reading schema marts and nothing else;
readers that never notice a rebuild, even a full refresh; the live view of today's P&L.

One simulated desk, run through the pipeline once, serves the module; the tests that change it
come last.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from decimal import Decimal

import psycopg2
import pytest

from precog import reporting_timezone
from precog.pipeline.dbt_runner import MANIFEST_PATH, run_dbt
from precog.warehouse import database
from tests.helpers import (
    COMPONENTS,
    at_scale,
    direct_sql,
    module_database,
    precog,
    published_scales,
)

# The desk's history ends, and its clock stands, on a fixed afternoon (UTC) with trades earlier
# that day: no verdict depends on when the suite runs.
DESK_NOW = "2026-02-01T18:00:00+00:00"
# numeric division keeps about 20 significant digits, Python's Decimal 28: a P&L computed on
# both sides is compared at 12 decimals, far below a cent.

DASHBOARD_MARTS = [
    "mv_current_positions",
    "mv_daily_pnl",
    "mv_strategy_performance",
    "mv_model_accuracy",
    "mv_market_edges",
    "mv_ab_test_results",
]


@pytest.fixture(scope="module")
def desk():
    """A warehouse with a simulated desk up to DESK_NOW, run through the pipeline."""
    with module_database("precog_test_marts") as target:
        precog(target, "simulate", "--trades", "4000", "--seed", "5", "--end", DESK_NOW)
        trade_one_strategy_with_two_models(target)
        precog(target, "run")
        yield target


def trade_one_strategy_with_two_models(target: database.Warehouse) -> None:
    """The simulator gives each strategy one model. Copy a fifth of the positions (and their
    trades) under another model, so strategy marts must merge the trades of several models."""
    with database.transaction(target) as cursor:
        cursor.execute(
            "select (select max(position_key) from raw.positions),"
            " (select max(position_id) from raw.positions), (select max(trade_id) from raw.trades)"
        )
        key_offset, position_offset, trade_offset = cursor.fetchone()
        cursor.execute(
            """
            create temporary table copied on commit drop as
            select position_id, position_id + %(positions)s as copy_id,
                (select min(model_id) from raw.probability_models as other
                 where other.model_id <> positions.model_id) as other_model_id
            from raw.positions where row_version = 1 and position_id %% 5 = 0;

            insert into raw.positions
            select position_key + %(keys)s, copy_id, market_id, strategy_id, other_model_id,
                side, quantity, entry_price, current_price, unrealized_pnl, status,
                row_current_ind, row_start_ts, row_end_ts, row_version, loaded_at
            from raw.positions join copied using (position_id);

            insert into raw.trades
            select trade_id + %(trades)s, copy_id, action, quantity, price, fees,
                execution_timestamp, loaded_at
            from raw.trades join copied using (position_id);
            """,
            {"keys": key_offset, "positions": position_offset, "trades": trade_offset},
        )


@pytest.fixture
def desk_cursor(desk):
    """A cursor on the desk whose clock (the live view's "today") reads DESK_NOW."""
    connection = database.connect(desk)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("set precog.now = %s", (DESK_NOW,))
        yield cursor
    connection.close()


def bi_reader(target: database.Warehouse):
    """A connection as the BI tools' role."""
    connection = database.connect(dataclasses.replace(target, user="bi_reader", password=""))
    connection.autocommit = True
    return connection


def fetch_dicts(cursor, sql: str) -> list[dict]:
    cursor.execute(sql)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_the_six_dashboard_marts_hold_rows(desk_cursor):
    for mart in DASHBOARD_MARTS:
        desk_cursor.execute(f"select count(*) from marts.{mart}")
        assert desk_cursor.fetchone()[0] > 0, mart


def test_strategy_performance_equals_a_direct_computation_from_trades(desk_cursor):
    dimensions = "strategy_id, league, market_type"
    mart = {
        (row["strategy_id"], row["league"], row["market_type"]): row
        for row in fetch_dicts(desk_cursor, "select * from marts.mv_strategy_performance")
    }
    direct = {
        (row["strategy_id"], row["league"], row["market_type"]): row
        for row in fetch_dicts(desk_cursor, direct_sql(None, reporting_timezone(), dimensions))
    }
    assert mart.keys() == direct.keys()
    # Several models trade under one strategy version here, so the mart is not the all-time
    # level relabelled: its drawdown and Sharpe come from the interleaved trades.
    desk_cursor.execute(
        "select count(*) from (select strategy_id, league, market_type"
        " from intermediate.int_pnl_all_time group by 1, 2, 3 having count(*) > 1) as shared"
    )
    assert desk_cursor.fetchone()[0] > 0
    # The mart publishes the exact figures at its contract's scales (rounded once, at the end).
    scales = published_scales(desk_cursor, "marts.mv_strategy_performance")
    for key, row in mart.items():
        for column in COMPONENTS:
            exact = direct[key][column]
            published = at_scale(exact, scales[column]) if column in scales else exact
            assert row[column] == published, (key, column)
        if direct[key]["sharpe_ratio_direct"] is None:
            assert row["sharpe_ratio"] is None, key
        else:
            sharpe = direct[key]["sharpe_ratio_direct"]
            assert abs(row["sharpe_ratio"] - sharpe) <= Decimal("0.00005") + abs(sharpe) * Decimal(
                "1e-12"
            )


def test_daily_pnl_runs_each_group_over_its_days(desk_cursor):
    rows = fetch_dicts(
        desk_cursor,
        "select * from marts.mv_daily_pnl"
        " order by strategy_id, model_id, league, market_type, pnl_date",
    )
    desk_cursor.execute(
        "select count(*) from marts.performance_tracking where aggregation_level = 'daily'"
    )
    assert len(rows) == desk_cursor.fetchone()[0]
    # Run over the exact daily figures (the daily level), published to the cent at the end.
    desk_cursor.execute(
        "select strategy_id, model_id, league, market_type, period_start, net_pnl"
        " from intermediate.int_pnl_daily"
    )
    exact = {tuple(row[:5]): row[5] for row in desk_cursor.fetchall()}
    group, cumulative, peak = None, Decimal(0), Decimal(0)
    for row in rows:
        key = (row["strategy_id"], row["model_id"], row["league"], row["market_type"])
        if key != group:
            group, cumulative, peak = key, Decimal(0), Decimal(0)
        cumulative += exact[(*key, row["period_start"])]
        peak = max(peak, cumulative)
        assert row["cumulative_pnl"] == at_scale(cumulative, 2)
        assert row["drawdown"] == at_scale(peak - cumulative, 2)
        assert row["strategy_name"] and row["model_name"]


def test_current_positions_are_the_open_ones_priced_at_the_mid(desk_cursor):
    rows = fetch_dicts(desk_cursor, "select * from marts.mv_current_positions")
    desk_cursor.execute(
        "select count(*) from intermediate.int_position_pnl as pnl"
        " join staging.stg_positions as positions using (position_id)"
        " where pnl.open_quantity > 0 and positions.status in ('open', 'monitoring')"
    )
    assert len(rows) == desk_cursor.fetchone()[0] > 0
    for row in rows:
        desk_cursor.execute(
            "select yes_bid, yes_ask, no_bid, no_ask from raw.markets"
            " where market_id = %s and row_current_ind",
            (row["market_id"],),
        )
        yes_bid, yes_ask, no_bid, no_ask = desk_cursor.fetchone()
        mid = (yes_bid + yes_ask) / 2 if row["side"] == "yes" else (no_bid + no_ask) / 2
        desk_cursor.execute(
            "select average_entry_price from intermediate.int_position_pnl where position_id = %s",
            (row["position_id"],),
        )
        entry = desk_cursor.fetchone()[0]  # exact; published to 4 decimals
        assert (row["current_price"], row["average_entry_price"]) == (
            at_scale(mid, 4),
            at_scale(entry, 4),
        )
        assert row["unrealized_pnl"] == at_scale((mid - entry) * row["open_quantity"], 2)


def test_every_public_model_and_column_is_documented_and_contracted():
    manifest = json.loads(MANIFEST_PATH.read_text())
    public = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("access") == "public"
    ]
    assert {node["name"] for node in public} >= {*DASHBOARD_MARTS, "live_pnl_today"}
    for node in public:
        assert node["schema"] == "marts", node["name"]
        assert node["config"]["contract"]["enforced"], node["name"]
        assert node["description"].strip(), node["name"]
        for column in node["columns"].values():
            assert column["description"].strip(), (node["name"], column["name"])
            assert column["data_type"], (node["name"], column["name"])
    exposed = {
        dependency
        for exposure in manifest["exposures"].values()
        for dependency in exposure["depends_on"]["nodes"]
    }
    assert {f"model.precog.{mart}" for mart in DASHBOARD_MARTS} <= exposed


def test_dbt_docs_generate_catalogs_the_marts(desk, tmp_path):
    result = run_dbt(["docs", "generate"], desk, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    catalogued = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert {*DASHBOARD_MARTS, "live_pnl_today", "performance_tracking"} <= catalogued


def test_the_docs_reach_postgresql_as_comments(desk_cursor):
    """A BI tool shows the documentation: every relation and column of marts carries its
    description as a comment (persist_docs; marts.ab_test_results, which the migrations create,
    takes the comments of mv_ab_test_results)."""
    desk_cursor.execute(
        """
        select count(*), count(col_description(attrelid, attnum)),
            count(distinct attrelid), count(distinct attrelid)
                filter (where obj_description(attrelid, 'pg_class') is not null)
        from pg_attribute
        where attrelid in (
            select oid from pg_class
            where relnamespace = 'marts'::regnamespace and relkind in ('r', 'v')
        ) and attnum > 0 and not attisdropped
        """
    )
    columns, commented, relations, described = desk_cursor.fetchone()
    assert columns > 200 and commented == columns, (commented, columns)
    assert relations == described


def test_bi_reader_puts_names_on_the_ids_of_the_marts(desk):
    """The marts carry ids; the two dimension marts name every one of them."""
    connection = bi_reader(desk)
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(*), count(strategies.strategy_name), count(models.model_name)"
            " from marts.performance_tracking as facts"
            " left join marts.dim_strategies as strategies using (strategy_id)"
            " left join marts.dim_probability_models as models using (model_id)"
        )
        rows, named_strategies, named_models = cursor.fetchone()
    connection.close()
    assert rows > 0 and named_strategies == named_models == rows


def test_bi_reader_reads_the_marts_and_nothing_else(desk):
    connection = bi_reader(desk)
    with connection.cursor() as cursor:
        cursor.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
        readable = {row[0] for row in cursor.fetchall()}
        assert set(DASHBOARD_MARTS) | {"performance_tracking", "live_pnl_today"} <= readable
        for relation in readable:
            cursor.execute(f"select count(*) from marts.{relation}")
        cursor.execute(
            "select schema_name from information_schema.schemata"
            " where schema_name not in ('pg_catalog', 'information_schema')"
            " and schema_name not like 'pg_toast%%'"
        )
        assert {row[0] for row in cursor.fetchall()} == {"marts"}
    for forbidden in (
        "select * from staging.stg_trades limit 1",
        "select * from intermediate.int_trade_pnl limit 1",
        "select * from raw.trades limit 1",
        "select * from precog_meta.build_watermarks",
        "delete from marts.mv_daily_pnl",
        "create table marts.scratch (id int)",
        "create temporary table scratch (id int)",
        "create table public.scratch (id int)",
    ):
        with pytest.raises(psycopg2.Error) as error, connection.cursor() as cursor:
            cursor.execute(forbidden)
        assert error.value.pgcode in {"42501", "25006"}, (forbidden, error.value.pgerror)
    connection.close()


def live_rows(cursor) -> dict[tuple, dict]:
    """marts.live_pnl_today by dimensions, without as_of."""
    return {
        (row["strategy_id"], row["model_id"], row["league"], row["market_type"]): {
            column: value for column, value in row.items() if column != "as_of"
        }
        for row in fetch_dicts(cursor, "select * from marts.live_pnl_today")
    }


def test_the_live_view_shows_a_trade_as_it_lands(desk, desk_cursor):
    """An exit of one contract lands: the live view counts it at once, with the P&L the
    pipeline will give it; after the next run it equals today's row of the daily mart."""
    before = live_rows(desk_cursor)
    position = fetch_dicts(
        desk_cursor,
        "select * from marts.mv_current_positions order by open_quantity desc, position_id limit 1",
    )[0]
    desk_cursor.execute(
        "select sum(quantity), sum(price * quantity), sum(fees) from staging.stg_trades"
        " where position_id = %s and action = 'entry'",
        (position["position_id"],),
    )
    entered, cost, entry_fees = desk_cursor.fetchone()
    price, fees = Decimal("0.91"), Decimal("0.01")
    desk_cursor.execute(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp)"
        " select max(trade_id) + 1, %s, 'exit', 1, %s, %s, %s from raw.trades",
        (position["position_id"], price, fees, DESK_NOW),
    )
    realized = ((price * entered - cost) - entry_fees) / entered - fees

    try:
        live = live_rows(desk_cursor)
        key = tuple(position[k] for k in ("strategy_id", "model_id", "league", "market_type"))
        was = before.get(key, {"total_trades": 0, "closed_trades": 0, "net_pnl": Decimal(0)})
        assert live[key]["total_trades"] == was["total_trades"] + 1
        assert live[key]["closed_trades"] == was["closed_trades"] + 1
        # Published to the cent: today's exact figure (the daily level) plus the exit's P&L.
        desk_cursor.execute(
            "select coalesce(sum(net_pnl), 0) from intermediate.int_pnl_daily"
            " where (strategy_id, model_id, league, market_type) = %s and period_start = %s",
            (key, live[key]["period_start"]),
        )
        assert live[key]["net_pnl"] == at_scale(desk_cursor.fetchone()[0] + realized, 2)
        assert {k: v for k, v in live.items() if k != key} == {
            k: v for k, v in before.items() if k != key
        }
    finally:
        # Pass or fail, the landed trade is processed: the module's other tests share the desk.
        precog(desk, "run")
    assert live_rows(desk_cursor) == live
    today = fetch_dicts(
        desk_cursor,
        "select * from marts.mv_daily_pnl"
        " where pnl_date = (select max(pnl_date) from marts.live_pnl_today)",
    )
    assert {
        (row["strategy_id"], row["model_id"], row["league"], row["market_type"]): {
            column: row[column] for column in live[key]
        }
        for row in today
    } == live


def read_in_a_loop(target, relations, expected_counts, stop, failures, latencies):
    """A BI reader: counts every relation of marts, again and again, until told to stop. Any
    error, any count other than the one before the rebuild, is a failure; a reader waiting on
    a lock more than 2 s gets an error too."""
    connection = bi_reader(target)
    with connection.cursor() as cursor:
        cursor.execute("set lock_timeout = '2s'")
        cursor.execute("set precog.now = %s", (DESK_NOW,))  # the desk's today, as counted
        while not stop.is_set():
            for relation in relations:
                started = time.perf_counter()
                try:
                    cursor.execute(f"select count(*) from marts.{relation}")
                    count = cursor.fetchone()[0]
                except psycopg2.Error as error:
                    failures.append((relation, str(error).strip()))
                    continue
                latencies.append(time.perf_counter() - started)
                if count != expected_counts[relation]:
                    failures.append((relation, f"{count} rows, {expected_counts[relation]} before"))
    connection.close()


def test_readers_never_notice_a_rebuild_even_a_full_refresh(desk, desk_cursor, tmp_path):
    # Whatever an earlier test landed (and, failing, left unprocessed) is processed first, so
    # the full refresh rebuilds the very data the readers count (free when nothing is pending).
    precog(desk, "run")
    desk_cursor.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    )
    relations = sorted(row[0] for row in desk_cursor.fetchall())
    expected = {}
    for relation in relations:
        desk_cursor.execute(f"select count(*) from marts.{relation}")
        expected[relation] = desk_cursor.fetchone()[0]

    stop, failures, latencies = threading.Event(), [], []
    readers = [
        threading.Thread(
            target=read_in_a_loop, args=(desk, relations, expected, stop, failures, latencies)
        )
        for _ in range(2)
    ]
    for reader in readers:
        reader.start()
    try:
        # The same data rebuilt from scratch: every relation of marts is replaced (by dbt alone:
        # the rebuild is dbt's business, whoever starts it).
        rebuilt = run_dbt(["run", "--full-refresh"], desk, tmp_path)
        assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not failures, failures[:10]
    assert len(latencies) > 10 * len(relations)
    latencies.sort()
    print(
        f"{len(latencies)} reads during the full refresh: p50 {latencies[len(latencies) // 2]:.4f}"
        f" s, max {latencies[-1]:.3f} s"
    )


def built_views(cursor) -> dict[str, int]:
    """Every view dbt built, by name, with its oid (a recreated view has a new one)."""
    cursor.execute(
        "select format('%s.%s', schema_name, view_name), to_regclass(format('%I.%I',"
        " schema_name, view_name))::oid from precog_meta.view_builds"
    )
    return dict(cursor.fetchall())


def test_a_run_keeps_the_views_whose_definition_did_not_change(desk, desk_cursor, tmp_path):
    manifest = json.loads(MANIFEST_PATH.read_text())
    views = {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "view"
    }
    before = built_views(desk_cursor)
    assert set(before) == views and None not in before.values()

    def run_views(*extra: str) -> dict[str, int]:
        result = run_dbt(["run", "--select", "config.materialized:view", *extra], desk, tmp_path)
        assert result.returncode == 0, result.stdout[-3000:]
        return built_views(desk_cursor)

    assert run_views() == before  # kept, not recreated
    # a view dropped (with the views over it) is built again, the others are kept
    desk_cursor.execute("drop view staging.stg_strategies cascade")
    again = run_views()
    assert again["staging.stg_strategies"] != before["staging.stg_strategies"]
    assert again["staging.base_trades"] == before["staging.base_trades"]
    # --full-refresh recreates every view, and so does the run after a migration
    refreshed = run_views("--full-refresh")
    assert all(refreshed[view] != again[view] for view in views)
    desk_cursor.execute(
        "delete from precog_meta.schema_migrations where name = '0011_view_builds.sql'"
    )
    assert database.migrate(desk) == ["0011_view_builds.sql"]
    migrated = run_views()
    assert all(migrated[view] != refreshed[view] for view in views)
    desk_cursor.execute("select count(*) from marts.live_pnl_today")  # still answers
