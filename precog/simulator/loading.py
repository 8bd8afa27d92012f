"""Loading windows into `raw`: a fresh history, an append, and the bookkeeping in
`precog_meta.simulation` that lets an append continue the same world.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from precog.simulator.binary_copy import (
    COPY_HEADER,
    COPY_TRAILER,
    PG_EPOCH,
    copy_binary,
    encode_binary,
)
from precog.simulator.game_days import generate_day
from precog.simulator.replication import cut_to_window
from precog.simulator.world import (
    BULK_TABLES,
    DAY,
    DEPRECATED_TRADE_FACTOR,
    DEPRECATED_UNTIL_DAY,
    EXPERIMENTS,
    LEAD_DAYS,
    MODELS,
    RAW_TABLES,
    SCD_TABLES,
    STRATEGIES,
    STRATEGY_IDS,
    TAIL_DAYS,
    TRADES_PER_GAME,
    SimulationError,
    World,
    day_of,
    expected_games,
)
from precog.warehouse import database

# --- the window load ---------------------------------------------------------------------------


def _days_touching(world: World, a: int, b: int) -> range:
    first = max(world.first_day, day_of(a) - TAIL_DAYS)
    return range(first, day_of(b) + LEAD_DAYS + 1)


def _batches(world: World, a: int, b: int, rows_per_batch: int) -> Iterator[tuple]:
    """(inserts per table as COPY bodies, row counts, updates, late trades) per batch of days."""
    pending: dict[str, list] = {}
    updates: dict[str, list] = {}
    counts: dict[str, int] = {}
    late = 0
    size = 0

    def flush():
        bodies = {}
        for table, parts in pending.items():
            merged = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
            bodies[table] = encode_binary(table, merged)
        batch = (bodies, dict(counts), {t: list(u) for t, u in updates.items()}, late)
        pending.clear()
        updates.clear()
        counts.clear()
        return batch

    for day in _days_touching(world, a, b):
        inserts, fixes = cut_to_window(generate_day(world, day), a, b)
        for table, columns in inserts.items():
            pending.setdefault(table, []).append(columns)
            rows = len(next(iter(columns.values())))
            counts[table] = counts.get(table, 0) + rows
            size += rows
        if "trades" in inserts:
            late += int((inserts["trades"]["execution_timestamp"] < a).sum())
        for table, fix in fixes.items():
            updates.setdefault(table, []).append(fix)
        if size >= rows_per_batch:
            yield flush()
            late, size = 0, 0
    if pending or updates:
        yield flush()


def _load_window(
    cursor, world: World, a: int, b: int, fresh: bool, phases: dict[str, float] | None = None
) -> tuple[dict, dict, int]:
    """Generate and load [a, b); returns rows inserted and updated per table, late trades.

    `phases` gets the seconds spent waiting for generated batches and copying them.
    """
    phases = {} if phases is None else phases
    phases.setdefault("wait_for_generation", 0.0)
    phases.setdefault("copy", 0.0)
    rows = {table: 0 for table in BULK_TABLES}
    updated = {table: 0 for table in SCD_TABLES}
    late = 0
    handoff: queue.Queue = queue.Queue(maxsize=3)
    stop = threading.Event()

    def produce():
        try:
            for batch in _batches(world, a, b, rows_per_batch=600_000):
                while not stop.is_set():
                    try:
                        handoff.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            handoff.put(error)

    producer = threading.Thread(target=produce, name="simulator-generate", daemon=True)
    producer.start()
    pending_updates: dict[str, list] = {}
    try:
        while True:
            mark = time.monotonic()
            batch = handoff.get()
            phases["wait_for_generation"] += time.monotonic() - mark
            if batch is None:
                break
            if isinstance(batch, BaseException):
                raise batch
            bodies, counts, fixes, batch_late = batch
            mark = time.monotonic()
            for table, body in bodies.items():
                copy_binary(cursor, table, body, freeze=fresh)
                rows[table] += counts[table]
            phases["copy"] += time.monotonic() - mark
            for table, parts in fixes.items():
                pending_updates.setdefault(table, []).extend(parts)
            late += batch_late
    finally:
        stop.set()
        producer.join()
    for table, parts in pending_updates.items():
        keys = np.concatenate([p[0] for p in parts])
        ends = np.concatenate([p[1] for p in parts])
        key = SCD_TABLES[table]
        cursor.execute(
            "create temp table if not exists _precog_scd_end (key bigint, end_ts timestamptz)"
            " on commit drop"
        )
        cursor.execute("truncate _precog_scd_end")
        body = np.empty(
            len(keys), [("count", ">i2"), ("l0", ">i4"), ("k", ">i8"), ("l1", ">i4"), ("e", ">i8")]
        )
        body["count"], body["l0"], body["l1"] = 2, 8, 8
        body["k"], body["e"] = keys, (ends - PG_EPOCH) * 1_000_000
        cursor.copy_expert(
            "copy _precog_scd_end (key, end_ts) from stdin with (format binary)",
            io.BytesIO(COPY_HEADER + body.tobytes() + COPY_TRAILER),
        )
        cursor.execute(
            f"update raw.{table} as target set row_end_ts = fix.end_ts,"
            " row_current_ind = false, loaded_at = now()"
            f" from _precog_scd_end as fix where target.{key} = fix.key"
        )
        updated[table] = cursor.rowcount
    return rows, updated, late


# --- public API ------------------------------------------------------------------------------


@dataclasses.dataclass
class SimulationReport:
    """What a history or an append loaded."""

    kind: str  # "history" or "append"
    seed: int
    games_per_day: float
    window_start: dt.datetime
    window_end: dt.datetime
    rows: dict[str, int]  # rows inserted per raw table
    updated: dict[str, int]  # SCD versions closed by an UPDATE, per table
    late_trades: int  # trades loaded that executed before the window started
    seconds: float
    phases: dict[str, float] = dataclasses.field(default_factory=dict)  # seconds per phase

    @property
    def trades(self) -> int:
        return self.rows.get("trades", 0)

    def __str__(self) -> str:
        rows = ", ".join(f"{table} {count}" for table, count in self.rows.items() if count)
        text = (
            f"simulated {self.kind} [{self.window_start:%Y-%m-%d %H:%M}, "
            f"{self.window_end:%Y-%m-%d %H:%M} UTC) seed {self.seed}: {self.trades} trades "
            f"in {self.seconds:.1f} s ({self.trades / max(self.seconds, 1e-9):,.0f} trades/s); "
            f"rows: {rows}"
        )
        if any(self.updated.values()):
            text += "; versions closed: " + ", ".join(
                f"{table} {count}" for table, count in self.updated.items() if count
            )
        if self.kind == "append":
            text += f"; late trades: {self.late_trades}"
        return text


def history_span_days(trades: int) -> int:
    """Days of history for a trade count: ~60 at 20k trades, ~3 years at 10M."""
    return int(np.clip(round(60 * (max(trades, 1) / 20_000) ** 0.467), 14, 1_200))


def plan_world(trades: int, seed: int, end: dt.datetime) -> World:
    """The world (games per day, history start) of a fresh history of ~`trades` trades.

    Games per day come from the average trades per game; a small history has few games, so its
    count strays far from that average (2,000 asked gave 3,214). Up to CALIBRATE_UP_TO trades,
    the days are generated and counted for a few rates near the corrected one, and the closest
    world wins (a day is the same for the same seed, so counting costs generation only).
    """
    end_s = _timestamp(end)
    history_start = (end_s - history_span_days(trades) * DAY) // DAY * DAY
    probe = World(seed, 1.0, history_start)
    days = np.arange(probe.first_day, day_of(end_s) + 1)
    weight = np.where(days - probe.first_day < DEPRECATED_UNTIL_DAY, DEPRECATED_TRADE_FACTOR, 1)
    expected = (expected_games(1.0, days).sum(axis=1) * weight).sum() if len(days) else 0.0
    world = World(seed, float(trades / (TRADES_PER_GAME * max(expected, 1e-9))), history_start)
    if trades > CALIBRATE_UP_TO:
        return world
    # The count jumps with the games drawn: the corrected rate, then a few neighbours of it.
    count = trades_in_history(world, end_s)
    best = (abs(count - trades), world)
    corrected = world.games_per_day * (trades / count if count else 2.0)
    for factor in (1.0, 0.9, 1.1, 0.8, 1.2):
        if best[0] <= trades * CALIBRATION_TOLERANCE:
            break
        candidate = dataclasses.replace(world, games_per_day=corrected * factor)
        count = trades_in_history(candidate, end_s)
        if count and abs(count - trades) < best[0]:
            best = (abs(count - trades), candidate)
    return best[1]


# Histories up to this many trades are planned by counting (plan_world); beyond, the average
# trades per game is within a few percent, and a count would cost a second generation.
CALIBRATE_UP_TO = 50_000
CALIBRATION_TOLERANCE = 0.03


def trades_in_history(world: World, end_s: int) -> int:
    """How many trades a fresh history of `world` up to `end_s` holds."""
    return sum(
        len(
            cut_to_window(generate_day(world, day), world.history_start, end_s)[0].get(
                "trades", {"trade_id": ()}
            )["trade_id"]
        )
        for day in _days_touching(world, world.history_start, end_s)
    )


def simulate_history(
    trades: int,
    seed: int,
    end: dt.datetime,
    *,
    target: database.Warehouse | None = None,
    replace: bool = False,
) -> SimulationReport:
    """A fresh history of about `trades` trades ending at `end` (tz-aware) in an empty raw, or
    replacing all of raw (imported trades included) when `replace` is set: then the next run
    is a full refresh."""
    if trades <= 0 or seed < 0:
        raise ValueError("trades must be positive and seed non-negative")
    end_s = _timestamp(end)
    world = plan_world(trades, seed, end)
    began = time.monotonic()
    phases: dict[str, float] = {}
    connection = database.connect(target)
    try:
        with connection, connection.cursor() as cursor:
            lock_raw(cursor)
            cursor.execute("select extract(epoch from now())")
            if end_s > float(cursor.fetchone()[0]) + 300:
                raise SimulationError(
                    f"--end {_iso(end_s)} is in the future: the trading system cannot have "
                    "traded yet; pick an end at or before now"
                )
            # A replaced raw owes the incremental models a full refresh: TRUNCATE gives each
            # table a new file, which they notice (macros/full_refresh.sql).
            _refuse_populated(cursor, replace)
            cursor.execute("set local synchronous_commit = off")
            cursor.execute("set local maintenance_work_mem = '1GB'")
            cursor.execute(
                "truncate "
                + ", ".join(f"raw.{table}" for table in RAW_TABLES)
                + ", precog_meta.simulation"
            )
            rebuild = _drop_indexes(cursor) if trades >= 200_000 else []
            _insert_static(cursor, world)
            rows, updated, late = _load_window(
                cursor, world, world.history_start, end_s, True, phases
            )
            mark = time.monotonic()
            for statement in rebuild:
                cursor.execute(statement)
            phases["indexes"] = time.monotonic() - mark
            mark = time.monotonic()
            cursor.execute(
                "insert into precog_meta.simulation"
                " (seed, games_per_day, history_start, simulated_through, updated_at)"
                " values (%s, %s, to_timestamp(%s), to_timestamp(%s), now())",
                (seed, world.games_per_day, world.history_start, end_s),
            )
        rows.update(
            strategies=len(STRATEGIES),
            probability_models=len(MODELS),
            ab_experiments=len(EXPERIMENTS),
        )
        phases["commit"] = time.monotonic() - mark
        mark = time.monotonic()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "analyze " + ", ".join(f"raw.{table}" for table in (*BULK_TABLES, "strategies"))
            )
        phases["analyze"] = time.monotonic() - mark
    finally:
        connection.close()
    return SimulationReport(
        "history",
        seed,
        world.games_per_day,
        _utc(world.history_start),
        _utc(end_s),
        _ordered(rows),
        updated,
        late,
        time.monotonic() - began,
        phases,
    )


def append_hours(hours: int, *, target: database.Warehouse | None = None) -> SimulationReport:
    """Continue the simulated world `hours` hours past simulated_through."""
    if hours <= 0:
        raise ValueError("hours must be positive")
    began = time.monotonic()
    phases: dict[str, float] = {}
    connection = database.connect(target)
    try:
        with connection, connection.cursor() as cursor:
            lock_raw(cursor)
            cursor.execute(
                "select seed, games_per_day, extract(epoch from history_start)::bigint,"
                " extract(epoch from simulated_through)::bigint, extract(epoch from now())"
                " from precog_meta.simulation"
            )
            state = cursor.fetchone()
            if state is None:
                raise SimulationError(
                    "nothing to append to: no simulated history (run `precog simulate --trades N`)"
                )
            seed, games_per_day, history_start, through, now = state
            world = World(int(seed), float(games_per_day), int(history_start))
            a, b = int(through), int(through) + hours * 3_600
            if b > float(now):
                raise SimulationError(
                    f"cannot append {hours} h: the window would end at {_iso(b)}, after the "
                    f"current time {_iso(int(now))}; simulate the history with an earlier --end"
                )
            rows, updated, late = _load_window(cursor, world, a, b, False, phases)
            cursor.execute(
                "update precog_meta.simulation set simulated_through = to_timestamp(%s),"
                " updated_at = now()",
                (b,),
            )
    finally:
        connection.close()
    return SimulationReport(
        "append",
        world.seed,
        world.games_per_day,
        _utc(a),
        _utc(b),
        _ordered(rows),
        updated,
        late,
        time.monotonic() - began,
        phases,
    )


# --- helpers -------------------------------------------------------------------------------


def _timestamp(moment: dt.datetime) -> int:
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None:
        raise ValueError("end must be a timezone-aware datetime")
    return int(moment.timestamp())


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.UTC)


def _iso(seconds: int) -> str:
    return _utc(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ordered(rows: dict[str, int]) -> dict[str, int]:
    return {table: rows.get(table, 0) for table in RAW_TABLES if table in rows}


def lock_raw(cursor) -> None:
    cursor.execute("select pg_advisory_xact_lock(hashtext('precog simulator'))")


def populated_tables(cursor) -> list[str]:
    """The raw tables that hold rows."""
    populated = []
    for table in RAW_TABLES:
        cursor.execute(f"select exists (select 1 from raw.{table})")
        if cursor.fetchone()[0]:
            populated.append(f"raw.{table}")
    return populated


def raw_is_empty(target: database.Warehouse | None = None) -> bool:
    with database.transaction(target) as cursor:
        return not populated_tables(cursor)


def _refuse_populated(cursor, replace: bool) -> None:
    """Refuse to wipe a populated raw unless told to."""
    populated = populated_tables(cursor)
    if populated and not replace:
        cursor.execute("select count(*) from raw.trade_import_lines")
        imported = cursor.fetchone()[0]
        cursor.execute("select exists (select 1 from precog_meta.simulation)")
        whose = "" if cursor.fetchone()[0] else " rows the simulator did not write, in"
        raise SimulationError(
            f"the warehouse already holds{whose} {', '.join(populated[:3])}"
            f"{' and more' if len(populated) > 3 else ''} ({imported} imported trades):"
            " --replace replaces all of raw, imported trades included, and makes the next"
            " `precog run` a full refresh; or simulate into another database (PGDATABASE)"
        )


def _drop_indexes(cursor) -> list[str]:
    """Drop the indexes and key constraints of the bulk tables; returns what recreates them."""
    tables = [f"raw.{table}" for table in BULK_TABLES]
    cursor.execute(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        " where contype in ('p', 'u') and conrelid::regclass::text = any(%s)",
        (tables,),
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i"
        " where i.indrelid::regclass::text = any(%s)"
        " and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)",
        (tables,),
    )
    indexes = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'alter table {table} drop constraint "{name}"')
    for name, _ in indexes:
        cursor.execute(f"drop index {name}")
    return [definition for _, definition in indexes] + [
        f'alter table {table} add constraint "{name}" {definition}'
        for table, name, definition in constraints
    ]


def _insert_static(cursor, world: World) -> None:
    from psycopg2.extras import execute_values

    execute_values(
        cursor,
        "insert into raw.probability_models (model_id, model_name, model_version, config, status)"
        " values %s",
        [(m[0], m[1], m[2], json.dumps(m[4]), m[3]) for m in MODELS],
    )
    execute_values(
        cursor,
        "insert into raw.strategies (strategy_id, strategy_name, strategy_version, config,"
        " status) values %s",
        [(s.strategy_id, s.name, s.version, json.dumps(s.config), s.status) for s in STRATEGIES],
    )
    execute_values(
        cursor,
        "insert into raw.ab_experiments (experiment_name, control_strategy_id,"
        " treatment_strategy_id, traffic_split, start_ts, end_ts, status, primary_metric, alpha)"
        " values %s",
        [
            (
                name,
                int(STRATEGY_IDS[control]),
                int(STRATEGY_IDS[treatment]),
                "0.5",
                _utc(world.experiment_start(e)),
                None,
                "running",
                "pnl_per_market",
                "0.05",
            )
            for e, (name, control, treatment, _) in enumerate(EXPERIMENTS)
        ],
    )
