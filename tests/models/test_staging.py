"""dbt staging on a real warehouse: sources, quarantine of bad input, staging of the rest.

A hand-made raw dataset with valid rows and one bad row of each kind (DESIGN.md, "Bad input")
is built with `dbt build --select staging`: the build succeeds with warnings, every bad row is
in `staging.quarantine` with its reason and left out of staging, every valid row is staged. The
quarantine is derived: a closing trade whose entry lands later leaves it after the next build,
which recomputes only what landed. A partitioned build tests what landed, a full one everything.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from precog.pipeline.dbt_runner import run_dbt
from precog.warehouse import bookkeeping

LOADED = "2025-01-05 00:00:00+00"  # loaded_at of every row unless a case needs another
NOW = "now"  # a timestamptz literal: the inserting transaction's start, as a loader stamps it

REFERENCE_DATA = f"""
insert into raw.strategies
    (strategy_id, strategy_name, strategy_version, config, status, loaded_at)
values
    (1, 'value_entry', 'v1.0',
     '{{"min_edge": 0.05, "max_position_contracts": 100, "scale_in_entries": 2,
        "exit_rule": "hold_to_settlement", "take_profit": null, "model_name": "elo"}}',
     'active', '{LOADED}'),
    (2, 'value_entry', 'v1.1',
     '{{"min_edge": 0.07, "max_position_contracts": 50, "scale_in_entries": 1,
        "exit_rule": "take_profit", "take_profit": 0.15, "model_name": "elo"}}',
     'testing', '{LOADED}');

insert into raw.probability_models
    (model_id, model_name, model_version, config, status, loaded_at)
values
    (1, 'elo', 'v1', '{{"family": "elo", "temperature": 1.2}}', 'active', '{LOADED}');

insert into raw.ab_experiments
    (experiment_name, control_strategy_id, treatment_strategy_id, traffic_split, start_ts,
     end_ts, status, primary_metric, alpha, loaded_at)
values
    ('min_edge_test', 1, 2, 0.5, '2025-01-01 00:00+00', null, 'running', 'pnl_per_market',
     0.05, '{LOADED}');
"""

MARKETS_POSITIONS_EDGES = f"""
insert into raw.markets
    (market_key, market_id, ticker, league, market_type, event_start_ts, close_ts, yes_bid,
     yes_ask, no_bid, no_ask, volume, status, settlement_value, row_current_ind, row_start_ts,
     row_end_ts, row_version, loaded_at)
values
    (10, 1, 'NFL-A', 'NFL', 'moneyline', '2025-01-03 18:00+00', '2025-01-03 18:00+00',
     0.40, 0.42, 0.58, 0.60, 100, 'open', null, false, '2025-01-01 00:00+00',
     '2025-01-02 00:00+00', 1, '{LOADED}'),
    (11, 1, 'NFL-A', 'NFL', 'moneyline', '2025-01-03 18:00+00', '2025-01-03 18:00+00',
     null, null, null, null, 900, 'settled', 1, true, '2025-01-02 00:00+00', null, 2,
     '{LOADED}'),
    (20, 2, 'NBA-B', 'NBA', 'spread', '2025-01-03 20:00+00', '2025-01-03 20:00+00',
     0.50, 0.52, 0.48, 0.50, 50, 'open', null, true, '2025-01-01 00:00+00', null, 1,
     '{LOADED}'),
    -- two current versions of market 3: version 1 (key 30) is quarantined
    (30, 3, 'NHL-C', 'NHL', 'total', '2025-01-04 00:00+00', '2025-01-04 00:00+00',
     0.30, 0.33, 0.67, 0.70, 10, 'open', null, true, '2025-01-01 00:00+00', null, 1,
     '{LOADED}'),
    (31, 3, 'NHL-C', 'NHL', 'total', '2025-01-04 00:00+00', '2025-01-04 00:00+00',
     0.31, 0.34, 0.66, 0.69, 20, 'open', null, true, '2025-01-02 00:00+00', null, 2,
     '{LOADED}'),
    -- market 50 settles at 0.5: its only version is quarantined, so it has no valid version
    (500, 50, 'NBA-E', 'NBA', 'moneyline', '2025-01-03 18:00+00', '2025-01-03 18:00+00',
     null, null, null, null, 5, 'settled', 0.5, true, '2025-01-02 00:00+00', null, 1,
     '{LOADED}');

insert into raw.positions
    (position_key, position_id, market_id, strategy_id, model_id, side, quantity,
     entry_price, current_price, unrealized_pnl, status, row_current_ind, row_start_ts,
     row_end_ts, row_version, loaded_at)
values
    (100, 1, 1, 1, 1, 'yes', 10, 0.40, 0.40, 0, 'open', false, '2025-01-02 10:00+00',
     '2025-01-02 12:00+00', 1, '{LOADED}'),
    (101, 1, 1, 1, 1, 'yes', 0, 0.40, 0.55, 0, 'exited', true, '2025-01-02 12:00+00',
     null, 2, '{LOADED}'),
    (200, 2, 2, 2, 1, 'no', 0, 0.30, 1, 0, 'settled', true, '2025-01-02 10:00+00', null, 1,
     '{LOADED}'),
    -- two current versions of position 3: version 1 (key 300) is quarantined
    (300, 3, 1, 1, 1, 'yes', 4, 0.45, 0.45, 0, 'open', true, '2025-01-02 10:00+00', null,
     1, '{LOADED}'),
    (301, 3, 1, 1, 1, 'yes', 4, 0.45, 0.50, 0.20, 'monitoring', true,
     '2025-01-02 11:00+00', null, 2, '{LOADED}'),
    (400, 4, 2, 1, 1, 'yes', 0, 0.50, 0.50, 0, 'exited', true, '2025-01-02 10:00+00', null,
     1, '{LOADED}'),
    (500, 5, 2, 1, 1, 'yes', 2, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null, 1,
     '{LOADED}'),
    (600, 6, 2, 1, 1, 'no', 5, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null, 1,
     '{LOADED}'),
    -- one bad position of each kind: on market 50, side 'maybe', strategy 99, model 99
    (7000, 70, 50, 1, 1, 'yes', 5, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null, 1,
     '{LOADED}'),
    (8000, 80, 2, 1, 1, 'maybe', 5, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null,
     1, '{LOADED}'),
    (9000, 90, 2, 99, 1, 'yes', 5, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null,
     1, '{LOADED}'),
    (11000, 110, 2, 1, 99, 'yes', 5, 0.50, 0.50, 0, 'open', true, '2025-01-02 10:00+00', null,
     1, '{LOADED}');

insert into raw.edges
    (edge_key, market_id, model_id, predicted_prob, market_price, edge, confidence,
     row_current_ind, row_start_ts, row_end_ts, row_version, loaded_at)
values
    (1000, 1, 1, 0.50, 0.41, 0.09, 0.8, false, '2025-01-01 00:00+00', '2025-01-02 00:00+00',
     1, '{LOADED}'),
    (1001, 1, 1, 0.55, 0.45, 0.10, 0.8, true, '2025-01-02 00:00+00', null, 2, '{LOADED}'),
    -- two current versions of the edge (2, 1): version 1 (key 2000) is quarantined
    (2000, 2, 1, 0.60, 0.51, 0.09, 0.7, true, '2025-01-01 00:00+00', null, 1, '{LOADED}'),
    (2001, 2, 1, 0.62, 0.51, 0.11, 0.7, true, '2025-01-01 06:00+00', null, 2, '{LOADED}'),
    -- versions of the edge (3, 1) that overlap in time: valid rows, flagged by the SCD test
    (3000, 3, 1, 0.40, 0.31, 0.09, 0.6, false, '2025-01-01 00:00+00', '2025-01-03 00:00+00',
     1, '{LOADED}'),
    (3001, 3, 1, 0.42, 0.31, 0.11, 0.6, true, '2025-01-02 00:00+00', null, 2, '{LOADED}');

insert into raw.model_predictions
    (prediction_id, model_id, market_id, predicted_prob, features, prediction_timestamp,
     loaded_at)
values
    (1, 1, 1, 0.55, '{{"elo_diff": 8.5, "home_advantage": 2.3, "market_mid": 0.41}}',
     '2025-01-02 00:00+00', '{LOADED}'),
    (2, 1, 2, 0.62, '{{"elo_diff": -3}}', '2025-01-01 06:00+00', '{LOADED}');

insert into raw.ab_test_assignments
    (assignment_id, experiment_name, market_id, variant, stratification_key, assigned_at,
     loaded_at)
values
    (1, 'min_edge_test', 1, 'control', 'NFL_moneyline', '2025-01-01 00:00+00', '{LOADED}'),
    (2, 'min_edge_test', 2, 'treatment', 'NBA_spread', '2025-01-01 00:00+00', '{LOADED}');
"""

# (trade_id, position_id, action, quantity, price, fees, execution_timestamp, loaded_at)
VALID_TRADES = [
    (1, 1, "entry", 10, "0.40", "0.10", "2025-01-02 10:00+00", LOADED),
    (2, 1, "exit", 10, "0.55", "0.10", "2025-01-02 12:00+00", LOADED),
    (3, 2, "entry", 5, "0.30", "0.05", "2025-01-02 10:00+00", LOADED),
    (4, 2, "settlement", 5, "1", "0", "2025-01-03 20:00+00", LOADED),
    (5, 3, "entry", 4, "0.45", "0.04", "2025-01-02 10:00+00", LOADED),
    (110, 5, "entry", 5, "0.50", "0.05", "2025-01-02 10:00+00", LOADED),
    (111, 5, "exit", 3, "0.60", "0.03", "2025-01-02 11:00+00", LOADED),
    (113, 6, "entry", 5, "0.50", "0.05", "2025-01-02 10:00+00", LOADED),
    (114, 6, "exit", 5, "0.45", "0.05", "2025-01-02 11:00+00", LOADED),
]

# trade_id -> (row, expected reason)
BAD_TRADES = {
    101: (
        (101, 2, "entry", 5, "1.37", "0.05", "2025-01-02 10:00+00", LOADED),
        "price_out_of_range",
    ),
    102: (
        (102, 2, "entry", 0, "0.30", "0.05", "2025-01-02 10:00+00", LOADED),
        "non_positive_quantity",
    ),
    103: ((103, 2, "entry", 5, "0.30", "-0.01", "2025-01-02 10:00+00", LOADED), "negative_fees"),
    104: ((104, 2, "entry", 5, "0.30", "0.05", "2025-01-05 01:00+00", LOADED), "future_execution"),
    105: (
        (105, 999, "entry", 5, "0.30", "0.05", "2025-01-02 10:00+00", LOADED),
        "unknown_position",
    ),
    107: ((107, 2, "buy", 5, "0.30", "0.05", "2025-01-02 10:00+00", LOADED), "unknown_action"),
    108: (
        (108, 4, "exit", 5, "0.60", "0.05", "2025-01-02 11:00+00", LOADED),
        "closing_without_entry",
    ),
    109: (
        (109, 5, "exit", 3, "0.60", "0.03", "2025-01-02 12:00+00", LOADED),
        "closing_more_than_open",
    ),
    112: (
        (112, 6, "entry", 2, "0.40", "0.02", "2025-01-02 12:00+00", LOADED),
        "entry_after_closing",
    ),
    115: (
        (115, 2, "settlement", 5, "0.5", "0", "2025-01-03 21:00+00", LOADED),
        "settlement_not_binary",
    ),
    # its position's only version is quarantined (its market settles at 0.5): no P&L possible
    116: ((116, 70, "entry", 5, "0.50", "0.05", "2025-01-02 10:00+00", LOADED), "invalid_position"),
}
BAD_VERSIONS = [
    ("markets", "500", "settlement_not_binary"),
    ("positions", "7000", "unknown_market"),
    ("positions", "8000", "unknown_side"),
    ("positions", "9000", "unknown_strategy"),
    ("positions", "11000", "unknown_model"),
]
# A second copy of trade 1, landed later with another price: the first copy stays valid.
DUPLICATE = (1, 1, "entry", 10, "0.41", "0.10", "2025-01-02 10:00+00", "2025-01-05 01:00:00+00")

QUARANTINE_KINDS = [
    *(("trades", reason) for _, reason in BAD_TRADES.values()),
    ("trades", "duplicate_trade_id"),
    ("markets", "multiple_current_versions"),
    ("positions", "multiple_current_versions"),
    ("edges", "multiple_current_versions"),
    ("trade_import_rejects", "import_rejected"),
    *((table, reason) for table, _, reason in BAD_VERSIONS),
]


def insert_trades(cursor, rows) -> None:
    cursor.executemany(
        "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
        " execution_timestamp, loaded_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )


def build_staging(
    warehouse,
    target_path: Path,
    select: str = "staging",
    window: tuple[str, str] | None = None,
    *extra: str,
) -> dict[str, dict]:
    """`dbt build --select staging` (or `select`), for a landing window if given; asserts it
    succeeded and returns its results by name."""
    args = ["build", "--select", select, "--log-path", str(target_path / "logs"), *extra]
    if window is not None:
        args += ["--vars", json.dumps({"loaded_from": window[0], "loaded_to": window[1]})]
    result = run_dbt(args, warehouse, target_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    # test.precog.<name>.<hash>, model.precog.<name>, unit_test.precog.<model>.<name>
    return {
        item["unique_id"].split(".")[-2 if item["unique_id"].startswith("test.") else -1]: item
        for item in results
    }


def query(cursor, sql: str, *params) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def test_bad_input_is_quarantined_and_the_rest_staged(warehouse, cursor, tmp_path):
    """One build over valid rows plus one bad row of each kind."""
    cursor.execute(REFERENCE_DATA + MARKETS_POSITIONS_EDGES)
    insert_trades(cursor, [*VALID_TRADES, *(row for row, _ in BAD_TRADES.values()), DUPLICATE])
    # Trade 101 came from an import (line 17), which also rejected line 3.
    cursor.execute(
        "insert into raw.trade_import_lines (file_name, line_number, trade_id, loaded_at)"
        " values ('trades.csv', 17, 101, %s), ('trades.csv', 18, 102, %s)",
        (LOADED, LOADED),
    )
    cursor.execute(
        "insert into raw.trade_import_rejects (file_name, line_number, line, reason, loaded_at)"
        " values ('trades.csv', 3, '3,1,entry,ten,0.4,0.1,2025-01-02T10:00:00Z',"
        " 'quantity ''ten'' is not a decimal number', %s)",
        (LOADED,),
    )
    results = build_staging(warehouse, tmp_path / "target")
    check_warnings(results)
    check_quarantine(cursor)
    check_staging(cursor)


def check_warnings(results: dict[str, dict]) -> None:
    """The build reports one warning per kind of bad input, and nothing fails."""
    failed = {
        name: r["status"]
        for name, r in results.items()
        if r["status"] not in {"pass", "success", "warn"}
    }
    assert failed == {}
    warned = {name: r["failures"] for name, r in results.items() if r["status"] == "warn"}
    expected = {f"quarantine_{table}_{reason}": 1 for table, reason in QUARANTINE_KINDS}
    # The overlapping versions of edge (3, 1) are valid rows the SCD test flags.
    expected["scd_ranges_do_not_overlap_stg_edge_versions_market_id__model_id"] = 1
    assert warned == expected
    unit_tests = [r for r in results.values() if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 8
    assert all(r["status"] == "pass" for r in unit_tests)


def check_quarantine(cursor) -> None:
    """Each bad row is in the quarantine with its reason, its detail and its raw record."""
    rows = query(cursor, "select source_table, record_key, reason from staging.quarantine")
    expected = {("trades", str(trade_id), reason) for trade_id, (_, reason) in BAD_TRADES.items()}
    expected |= {
        ("trades", "1", "duplicate_trade_id"),
        ("markets", "30", "multiple_current_versions"),
        ("positions", "300", "multiple_current_versions"),
        ("edges", "2000", "multiple_current_versions"),
        ("trade_import_rejects", "trades.csv:3", "import_rejected"),
        *BAD_VERSIONS,
    }
    assert sorted(rows) == sorted(expected)
    assert {(table, reason) for table, _, reason in rows} == set(QUARANTINE_KINDS)

    details = dict(
        query(
            cursor,
            "select source_table || ':' || record_key, reason_detail from staging.quarantine",
        )
    )
    assert details["trades:101"] == "trades.csv line 17: price 1.37 outside [0, 1]"
    assert details["trades:102"] == "trades.csv line 18: quantity 0 is not positive"
    assert details["trade_import_rejects:trades.csv:3"] == (
        "trades.csv line 3: quantity 'ten' is not a decimal number"
    )
    assert details["markets:30"].startswith("market 3 has 2 current versions; version 2")
    assert "position 4" in details["trades:108"]

    # The raw row is kept whole: the quarantined copy of trade 1 is the later one.
    duplicate = query(
        cursor,
        "select record ->> 'price', (record ->> 'loaded_at')::timestamptz = %s::timestamptz"
        " from staging.quarantine where reason = 'duplicate_trade_id'",
        DUPLICATE[-1],
    )
    assert duplicate == [("0.41", True)]


def check_staging(cursor) -> None:
    """Every valid row is staged, no quarantined one is; validity ranges and typed JSONB keys."""
    trades = query(cursor, "select trade_id, price::text from staging.stg_trades order by trade_id")
    assert trades == [(row[0], row[4]) for row in sorted(VALID_TRADES)]

    assert query(cursor, "select market_key from staging.stg_market_versions order by 1") == [
        (10,),
        (11,),
        (20,),
        (31,),
    ]
    assert query(cursor, "select market_id, market_key from staging.stg_markets order by 1") == [
        (1, 11),
        (2, 20),
        (3, 31),
    ]
    assert query(cursor, "select position_key from staging.stg_position_versions order by 1") == [
        (100,),
        (101,),
        (200,),
        (301,),
        (400,),
        (500,),
        (600,),
    ]
    assert query(
        cursor, "select position_id, position_key from staging.stg_positions order by 1"
    ) == [(1, 101), (2, 200), (3, 301), (4, 400), (5, 500), (6, 600)]
    assert query(cursor, "select edge_key from staging.stg_edge_versions order by 1") == [
        (1000,),
        (1001,),
        (2001,),
        (3000,),
        (3001,),
    ]
    assert query(cursor, "select edge_key from staging.stg_edges order by 1") == [
        (1001,),
        (2001,),
        (3001,),
    ]
    # Validity ranges for point-in-time joins.
    assert query(
        cursor,
        "select edge_key from staging.stg_edge_versions where market_id = 1"
        " and valid_from <= '2025-01-01 12:00+00' and '2025-01-01 12:00+00' < valid_to",
    ) == [(1000,)]
    assert query(
        cursor, "select valid_to = 'infinity' from staging.stg_markets where market_id = 1"
    ) == [(True,)]

    # Reference data, with the JSONB keys typed.
    assert query(
        cursor,
        "select strategy_id, min_edge, max_position_contracts, scale_in_entries, exit_rule,"
        " take_profit, model_name from staging.stg_strategies order by 1",
    ) == [
        (1, Decimal("0.05"), 100, 2, "hold_to_settlement", None, "elo"),
        (2, Decimal("0.07"), 50, 1, "take_profit", Decimal("0.15"), "elo"),
    ]
    assert query(
        cursor, "select family, temperature::text from staging.stg_probability_models"
    ) == [("elo", "1.2")]
    assert query(
        cursor,
        "select prediction_id, elo_diff::text, home_advantage::text, market_mid::text"
        " from staging.stg_model_predictions order by 1",
    ) == [(1, "8.5", "2.3", "0.41"), (2, "-3", None, None)]
    assert query(cursor, "select count(*) from staging.stg_ab_experiments") == [(1,)]
    assert query(
        cursor, "select market_id, variant from staging.stg_ab_test_assignments order by 1"
    ) == [(1, "control"), (2, "treatment")]


@pytest.mark.parametrize("change_log", ["appended", "rebuilt alone"])
def test_quarantine_is_derived(warehouse, cursor, tmp_path, change_log):
    """A closing trade whose entry (and a trade whose position) had not landed is quarantined,
    and leaves the quarantine for stg_trades once the missing row lands: whether the change log
    records the landing by an increment or is rebuilt alone before (its full refresh keeps what
    it had captured and records what landed since as an increment would, macros/incremental.sql
    previous_capture; position 12, of which only the market lands, included)."""
    cursor.execute(REFERENCE_DATA + MARKETS_POSITIONS_EDGES)
    insert_trades(
        cursor,
        [
            (8, 4, "exit", 5, "0.60", "0.05", "2025-01-02 11:00+00", LOADED),
            (9, 7, "entry", 5, "0.60", "0.05", "2025-01-02 11:00+00", LOADED),
            (10, 12, "entry", 5, "0.60", "0.05", "2025-01-02 11:00+00", LOADED),
        ],
    )
    # Position 12 is on market 60, which has not landed.
    cursor.execute(
        "insert into raw.positions (position_key, position_id, market_id, strategy_id, model_id,"
        " side, quantity, entry_price, status, row_start_ts, loaded_at) values"
        " (1200, 12, 60, 1, 1, 'yes', 5, 0.60, 'open', '2025-01-02 11:00+00', %s)",
        (LOADED,),
    )
    select = "staging int_position_changes int_trade_pnl"
    before = build_staging(warehouse, tmp_path / "before", select)
    assert before["quarantine_trades_closing_without_entry"]["status"] == "warn"
    assert before["quarantine_trades_unknown_position"]["status"] == "warn"
    quarantined = "select record_key, reason from staging.quarantine"
    # the bad versions of the reference data stay quarantined throughout
    versions = [(key, reason) for _, key, reason in BAD_VERSIONS] + [
        (key, "multiple_current_versions") for key in ("30", "300", "2000")
    ]
    assert sorted(query(cursor, quarantined)) == sorted(
        [
            ("10", "invalid_position"),
            ("1200", "unknown_market"),
            ("8", "closing_without_entry"),
            ("9", "unknown_position"),
            *versions,
        ]
    )
    assert query(cursor, "select trade_id from staging.stg_trades") == []

    # The entry, executed before the exit, lands late; so does position 7. They land now, after
    # the first build: the second recomputes the positions whose rows landed since.
    insert_trades(cursor, [(7, 4, "entry", 5, "0.50", "0.05", "2025-01-02 10:00+00", NOW)])
    cursor.execute(
        "insert into raw.positions (position_key, position_id, market_id, strategy_id, model_id,"
        " side, quantity, entry_price, status, row_start_ts, loaded_at) values"
        " (700, 7, 2, 1, 1, 'yes', 5, 0.60, 'open', '2025-01-02 11:00+00', now())"
    )
    land_market(cursor, 60, "NBA", NOW)  # and so does position 12's market
    if change_log == "rebuilt alone":
        build_staging(
            warehouse, tmp_path / "rebuilt", "int_position_changes", None, "--full-refresh"
        )
    after = build_staging(warehouse, tmp_path / "after", select)
    assert after["quarantine_trades_closing_without_entry"]["status"] == "pass"
    assert after["quarantine_trades_unknown_position"]["status"] == "pass"
    assert after["quarantine_trades_invalid_position"]["status"] == "pass"
    assert sorted(query(cursor, quarantined)) == sorted(versions)
    assert query(cursor, "select trade_id from staging.stg_trades order by 1") == [
        (7,),
        (8,),
        (9,),
        (10,),
    ]
    # ... and every trade that left the quarantine is priced, 10 included.
    priced = "select trade_id, league from intermediate.int_trade_pnl order by 1"
    assert query(cursor, priced) == [(7, "NBA"), (8, "NBA"), (9, "NBA"), (10, "NBA")]


LEAGUE_TEST = "accepted_values_stg_market_versions_league__NFL__NBA__MLB__NHL__NCAAF__NCAAB"
# The landing window of a partition: an hour after the reference data landed.
WINDOW = ("2025-01-06T00:00:00+00:00", "2025-01-06T01:00:00+00:00")


def land_market(cursor, market_id: int, league: str, loaded_at: str) -> None:
    cursor.execute(
        "insert into raw.markets (market_key, market_id, ticker, league, market_type,"
        " event_start_ts, close_ts, yes_bid, yes_ask, no_bid, no_ask, volume, status,"
        " settlement_value, row_current_ind, row_start_ts, row_end_ts, row_version, loaded_at)"
        " values (%s, %s, 'X', %s, 'moneyline', '2025-01-07 18:00+00', '2025-01-07 18:00+00',"
        " 0.40, 0.42, 0.58, 0.60, 0, 'open', null, true, '2025-01-05 00:00+00', null, 1, %s)",
        (market_id * 10, market_id, league, loaded_at),
    )


def land_position(cursor, position_id: int) -> None:
    cursor.execute(
        "insert into raw.positions (position_key, position_id, market_id, strategy_id, model_id,"
        " side, quantity, entry_price, status, row_start_ts, loaded_at) values"
        " (%s, %s, 2, 1, 1, 'yes', 0, 0.50, 'open', '2025-01-05 00:00+00', now())",
        (position_id * 100, position_id),
    )


def test_a_partitioned_build_tests_what_landed(warehouse, cursor, tmp_path):
    """The tests of staging test the keys not validated yet (landed since the pipeline last
    processed the change log) and, in a build with a landing window, those that landed in it;
    a full refresh tests everything."""
    cursor.execute(REFERENCE_DATA + MARKETS_POSITIONS_EDGES)
    insert_trades(cursor, VALID_TRADES)
    land_market(cursor, 8, "XFL", LOADED)  # a bad row that landed long ago
    # Staging and the pipeline's change log and trade P&L, whose progress says what is validated.
    select = "staging int_position_changes int_trade_pnl"

    def league_failures(name: str, window: tuple[str, str] | None, *extra: str) -> int:
        results = build_staging(warehouse, tmp_path / name, select, window, *extra)
        return results[LEAGUE_TEST]["failures"]

    assert league_failures("first", None) == 1  # a first build tests everything
    # Each run sees a valid position land. The second one still tests everything: which rows
    # the first build validated is known only after it has run.
    land_position(cursor, 20)
    assert league_failures("second", WINDOW) == 1
    # Now the old row is validated: it is not tested again.
    land_position(cursor, 21)
    assert league_failures("quiet_hour", WINDOW) == 0

    # accepted_values counts the distinct bad values: one league per case
    land_market(cursor, 9, "AFL", "2025-01-06 00:30:00+00")  # in the window (a backfill)
    land_market(cursor, 10, "CFL", NOW)  # landed since the last run
    assert league_failures("bad_hour", WINDOW) == 2
    # Without a window (`precog run` catching up): what has not been validated yet, UFL and
    # CFL (one capture back); not the window's backfilled AFL nor the old XFL.
    land_market(cursor, 11, "UFL", NOW)
    assert league_failures("catch_up", None) == 2
    assert league_failures("full", None, "--full-refresh") == 4  # a full refresh: everything


def test_a_successful_run_bounds_what_the_next_one_tests(warehouse, cursor, tmp_path):
    """After a first build, which tests everything, a successful `precog run` records where it
    began (bookkeeping.record_success): the next build tests what landed since, not the whole
    history again, and the suites' rule (bookkeeping.unvalidated_since) says the same."""
    cursor.execute(REFERENCE_DATA + MARKETS_POSITIONS_EDGES)
    insert_trades(cursor, VALID_TRADES)
    land_market(cursor, 8, "XFL", LOADED)  # a bad row that landed long ago
    select = "staging int_position_changes int_trade_pnl"

    def league_failures(name: str) -> int:
        return build_staging(warehouse, tmp_path / name, select)[LEAGUE_TEST]["failures"]

    assert league_failures("first") == 1
    assert bookkeeping.unvalidated_since(cursor) is None  # one capture, none before it
    cursor.execute("select statement_timestamp()")
    began = cursor.fetchone()[0]
    bookkeeping.record_success(cursor, bookkeeping.WarehouseState(began, {}, "checksum"))
    assert bookkeeping.unvalidated_since(cursor) == began

    land_position(cursor, 20)
    assert league_failures("second") == 0  # the old row was validated by the first
    land_market(cursor, 10, "CFL", NOW)  # landed after the run began: tested
    assert league_failures("third") == 1
