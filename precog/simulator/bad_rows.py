"""Bad rows: each breaks exactly one rule of the input contract, for the quarantine."""

from __future__ import annotations

import datetime as dt

import numpy as np

from precog.simulator.loading import lock_raw
from precog.simulator.trading import fee_cents
from precog.simulator.world import BAD_ID_BASE, SimulationError
from precog.warehouse import database

BAD_KINDS = (
    "price_out_of_range",
    "non_positive_quantity",
    "negative_fees",
    "future_execution",
    "unknown_position",
    "closing_without_entry",
    "closing_more_than_open",
    "duplicate_trade_id",
    "multiple_current_versions",
)


def add_bad_rows(
    n: int, seed: int = 0, *, target: database.Warehouse | None = None
) -> dict[str, int]:
    """Add `n` rows that each break exactly one contract rule, round-robin over BAD_KINDS.

    Trade-level bad rows go to fresh positions (a valid positions row of an existing market)
    so that nothing else about them is wrong; their ids come from a reserved range above
    BAD_ID_BASE. Returns the rows added per kind.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    counts = {kind: 0 for kind in BAD_KINDS}
    rng = np.random.default_rng([seed, 7_777])
    with database.transaction(target) as cursor:
        lock_raw(cursor)
        rows = _BadRows(cursor, rng)
        for i in range(n):
            kind = BAD_KINDS[i % len(BAD_KINDS)]
            rows.add(kind, i, variant=(i // len(BAD_KINDS)) % 2)
            counts[kind] += 1
        rows.insert()
    return counts


class _BadRows:
    """The bad rows of one call, with the ids they take from the reserved range, inserted
    together at the end."""

    def __init__(self, cursor, rng):
        self.cursor, self.rng = cursor, rng
        cursor.execute(
            "select position_id, market_id, strategy_id, model_id, side from raw.positions"
            " where row_current_ind and position_id < %s order by position_key desc limit 500",
            (BAD_ID_BASE,),
        )
        self.templates = cursor.fetchall()
        if not self.templates:
            raise SimulationError(
                "raw holds no simulated positions to add bad rows to: simulate first"
            )
        cursor.execute(
            "select greatest("
            " (select max(trade_id) from raw.trades where trade_id >= %(base)s),"
            " (select max(position_key) from raw.positions where position_key >= %(base)s),"
            " (select max(position_id) from raw.positions where position_id >= %(base)s),"
            " (select max(market_key) from raw.markets where market_key >= %(base)s))",
            {"base": BAD_ID_BASE},
        )
        self.next_id = max(BAD_ID_BASE, cursor.fetchone()[0] or 0) + 1
        cursor.execute("select now()")
        self.now = cursor.fetchone()[0]
        self.trades: list[tuple] = []
        self.positions: list[tuple] = []

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def fresh_position(self, at: dt.datetime) -> int:
        """A valid open position on the market of a simulated one."""
        _, market_id, strategy_id, model_id, side = self.templates[
            self.rng.integers(len(self.templates))
        ]
        position_id, position_key = self.new_id(), self.new_id()
        dimensions = (market_id, strategy_id, model_id, side)
        # quantity, entry_price, current_price, unrealized_pnl, status, current, start, end, version
        version = (10, "0.4500", "0.45", "0.0000", "open", True, at, None, 1)
        self.positions.append((position_key, position_id, *dimensions, *version))
        return position_id

    def add(self, kind: str, i: int, variant: int) -> None:
        """The i-th bad row, of `kind`; `variant` (0 or 1) alternates its two forms."""
        at = self.now - dt.timedelta(minutes=90) + dt.timedelta(seconds=i)
        trade = self.trades.append
        if kind == "price_out_of_range":
            price = ("1.25", "-0.10")[variant]
            trade((self.new_id(), self.fresh_position(at), "entry", 10, price, "0.02", at))
        elif kind == "non_positive_quantity":
            quantity = (0, -10)[variant]
            trade((self.new_id(), self.fresh_position(at), "entry", quantity, "0.45", "0.00", at))
        elif kind == "negative_fees":
            trade((self.new_id(), self.fresh_position(at), "entry", 10, "0.45", "-0.02", at))
        elif kind == "future_execution":
            future = self.now + dt.timedelta(days=3, seconds=i)
            trade((self.new_id(), self.fresh_position(at), "entry", 10, "0.45", "0.02", future))
        elif kind == "unknown_position":
            trade((self.new_id(), self.new_id(), "entry", 10, "0.45", "0.02", at))
        elif kind == "closing_without_entry":
            trade((self.new_id(), self.fresh_position(at), "exit", 10, "0.55", "0.02", at))
        elif kind == "closing_more_than_open":
            position_id = self.fresh_position(at)
            trade((self.new_id(), position_id, "entry", 10, "0.45", "0.02", at))
            later = at + dt.timedelta(minutes=1)
            trade((self.new_id(), position_id, "exit", 15, "0.55", "0.03", later))
        elif kind == "duplicate_trade_id":
            trade(_duplicate_of_entry(self.cursor, self.rng))
        else:
            _copy_older_version(self.cursor, self.rng, self.new_id(), markets=variant == 1)

    def insert(self) -> None:
        from psycopg2.extras import execute_values

        if self.positions:
            execute_values(
                self.cursor,
                "insert into raw.positions (position_key, position_id, market_id, strategy_id,"
                " model_id, side, quantity, entry_price, current_price, unrealized_pnl, status,"
                " row_current_ind, row_start_ts, row_end_ts, row_version) values %s",
                self.positions,
            )
        execute_values(
            self.cursor,
            "insert into raw.trades (trade_id, position_id, action, quantity, price, fees,"
            " execution_timestamp) values %s",
            self.trades,
        )


def _duplicate_of_entry(cursor, rng) -> tuple:
    """A new row with the trade_id of a loaded simulated entry, one cent off in price."""
    cursor.execute(
        "select min(trade_id), max(trade_id) from raw.trades where trade_id < %s", (BAD_ID_BASE,)
    )
    low, high = cursor.fetchone()
    if low is None:
        raise SimulationError("raw.trades holds no simulated trades to duplicate")
    probe = int(low + rng.random() * (high - low))
    cursor.execute(
        "select trade_id, position_id, quantity, price, execution_timestamp from raw.trades"
        " where action = 'entry' and trade_id >= %s and trade_id < %s"
        " order by trade_id limit 1",
        (probe, BAD_ID_BASE),
    )
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            "select trade_id, position_id, quantity, price, execution_timestamp from raw.trades"
            " where action = 'entry' and trade_id < %s order by trade_id limit 1",
            (BAD_ID_BASE,),
        )
        row = cursor.fetchone()
    trade_id, position_id, quantity, price, executed = row
    cents = round(price * 100)
    cents = cents + 1 if cents < 99 else cents - 1
    fees = fee_cents(np.int64(int(quantity)), np.int64(cents))
    return (
        trade_id,
        position_id,
        "entry",
        quantity,
        f"{cents / 100:.2f}",
        f"{int(fees) // 100}.{int(fees) % 100:02d}",
        executed,
    )


def _copy_older_version(cursor, rng, key: int, markets: bool) -> None:
    """Insert a copy of an older version of a position (or market) marked current."""
    table, surrogate, business = (
        ("markets", "market_key", "market_id")
        if markets
        else ("positions", "position_key", "position_id")
    )
    cursor.execute(
        f"select {business} from raw.{table} where row_current_ind and row_version >= 2"
        f" and {surrogate} < %s order by {surrogate} desc limit 200",
        (BAD_ID_BASE,),
    )
    candidates = [row[0] for row in cursor.fetchall()]
    if not candidates:
        raise SimulationError(f"raw.{table} holds no key with two versions to copy")
    chosen = candidates[rng.integers(len(candidates))]
    cursor.execute(
        "select column_name from information_schema.columns where table_schema = 'raw'"
        " and table_name = %s and column_name not in (%s, 'row_current_ind', 'row_end_ts',"
        " 'loaded_at') order by ordinal_position",
        (table, surrogate),
    )
    columns = [row[0] for row in cursor.fetchall()]
    listed = ", ".join(columns)
    cursor.execute(
        f"insert into raw.{table} ({surrogate}, {listed}, row_current_ind, row_end_ts)"
        f" select %s, {listed}, true, null from raw.{table}"
        f" where {business} = %s and row_version = 1 and {surrogate} < %s limit 1",
        (key, chosen, BAD_ID_BASE),
    )
