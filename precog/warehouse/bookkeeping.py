"""What the pipeline has processed, read from its bookkeeping: the change log
(intermediate.int_position_changes), each incremental model's watermark
(precog_meta.build_watermarks, written by macros/incremental.sql), what each model was built
from (precog_meta.built_from, macros/full_refresh.sql), the last complete run
(precog_meta.last_complete_run) and where it began (precog_meta.last_validation). The one Python
home of "what this run must process"; its dbt home is macros/incremental.sql, whose rules these
queries follow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from psycopg2 import sql

from precog.warehouse.database import RAW_TABLES

CHANGE_LOG = "intermediate.int_position_changes"
# The raw tables a row can land in alone (trade_import_lines always lands with its trade).
LANDING_TABLES = [table for table in RAW_TABLES if table != "trade_import_lines"]


def _change_log_exists(cursor) -> bool:
    cursor.execute("select to_regclass(%s) is not null", (CHANGE_LOG,))
    return cursor.fetchone()[0]


def processed_through(cursor, model: str) -> datetime | None:
    """Every raw row that landed before this time is reflected in incremental model `model`
    (the change log capture its watermark has reached); None if it has processed nothing."""
    if not _change_log_exists(cursor):
        return None
    cursor.execute(
        f"select max(complete_before) from {CHANGE_LOG} where captured_at <= ("
        "select captured_through from precog_meta.build_watermarks where model = %s)",
        (model,),
    )
    return cursor.fetchone()[0]


def unvalidated_since(cursor) -> datetime | None:
    """Rows that landed from this time may not have been validated yet (the rule of the dbt
    tests of staging, macros/test_windows.sql): the later of one change log capture before the
    last one int_trade_pnl has processed, and where the last successful `precog run` began
    (precog_meta.last_validation: its tests saw everything that had landed by then); None
    (validate everything) before the change log is built, or when neither is known."""
    if not _change_log_exists(cursor):
        return None
    change_log = (
        f"(select complete_before from {CHANGE_LOG} where captured_at < ("
        "select captured_through from precog_meta.build_watermarks where model = 'int_trade_pnl')"
        " order by captured_at desc limit 1)"  # an index probe: see macros/test_windows.sql
    )
    cursor.execute(
        f"select greatest({change_log}, (select complete_before from precog_meta.last_validation))"
    )
    return cursor.fetchone()[0]


def landed_condition(cursor, window: tuple[datetime, datetime] | None) -> str | None:
    """The rows a run validates, as a condition on loaded_at: those that may not have been
    validated yet and, for a partition window [start, end), those that landed in it (the rule of
    the dbt tests of staging, macros/test_windows.sql); None (validate everything) when
    unvalidated_since knows no bound."""
    since = unvalidated_since(cursor)
    if since is None:
        return None
    if window is None:
        return cursor.mogrify("(loaded_at >= %s)", (since,)).decode()
    return cursor.mogrify(
        "(loaded_at >= %s or (loaded_at >= %s and loaded_at < %s))", (since, *window)
    ).decode()


def trades_since_last_capture(cursor) -> tuple[int, int]:
    """(trades, positions) landed since the last change log capture had seen everything: what
    the live views reprice (macros/live.sql)."""
    cursor.execute(
        "select count(*), count(distinct position_id) from raw.trades"
        f" where loaded_at >= (select max(complete_before) from {CHANGE_LOG})"
    )
    return cursor.fetchone()


def oldest_unprocessed(cursor, model: str, raw_tables: list[str]):
    """(processed_through, oldest_pending_loaded_at, now) of an incremental model: every raw row
    that landed before processed_through is reflected in it; the oldest one after is pending."""
    through = processed_through(cursor, model.split(".")[-1])
    # Literal bounds, one index range scan per table (their loaded_at indexes).
    pending = sql.SQL(" union all ").join(
        sql.SQL("select min(loaded_at) from {} where loaded_at >= %(through)s").format(
            sql.Identifier(*table.split("."))
        )
        for table in raw_tables
    )
    cursor.execute(
        sql.SQL("select min(oldest), now() from ({}) as pending (oldest)").format(pending),
        {"through": "-infinity" if through is None else through},
    )
    oldest, now = cursor.fetchone()
    return through, oldest, now


@dataclass(frozen=True)
class WarehouseState:
    """What a run processes: every raw row landed before `complete_before` (the start of the
    oldest transaction then open, as the change log's watermark), the raw tables' files, and
    the project's checksum."""

    complete_before: object
    raw_files: dict[str, int]
    project_checksum: str


def current_state(cursor, project_checksum: str) -> WarehouseState:
    """What a run now would process; `project_checksum` identifies the code it runs."""
    cursor.execute(
        "select coalesce(min(xact_start), statement_timestamp()) from pg_stat_activity"
        " where backend_type = 'client backend' and pid <> pg_backend_pid()"
        " and datname = current_database()"
    )
    complete_before = cursor.fetchone()[0]
    cursor.execute(
        "select relname, pg_relation_filenode(oid) from pg_class"
        " where relnamespace = 'raw'::regnamespace and relname = any(%s)",
        (list(RAW_TABLES),),
    )
    return WarehouseState(complete_before, dict(cursor.fetchall()), project_checksum)


def validated_before(cursor, state: WarehouseState) -> bool:
    """Whether the last `precog run` succeeded with the project and raw tables of `state`: then
    a run may test only what has not been validated yet. Otherwise (a first run, a failed or
    killed one, a changed test or suite, a replaced table) it tests every row."""
    cursor.execute("select raw_files, project_checksum from precog_meta.last_complete_run")
    last = cursor.fetchone()
    return last is not None and last == (state.raw_files, state.project_checksum)


def nothing_new(cursor, state: WarehouseState) -> bool:
    """Whether the last successful run saw everything `state` holds: the same project and raw
    tables, and no row landed since."""
    if not validated_before(cursor, state):
        return False
    landed = sql.SQL(" union all ").join(
        sql.SQL("(select 1 from raw.{} where loaded_at >= last.complete_before limit 1)").format(
            sql.Identifier(table)
        )
        for table in LANDING_TABLES
    )
    cursor.execute(
        sql.SQL("select not exists ({}) from precog_meta.last_complete_run as last").format(landed)
    )
    return cursor.fetchone()[0]


def record_success(cursor, state: WarehouseState) -> None:
    cursor.execute(
        "insert into precog_meta.last_complete_run"
        " (complete_before, raw_files, project_checksum) values (%s, %s, %s)"
        " on conflict (id) do update set complete_before = excluded.complete_before,"
        " raw_files = excluded.raw_files, project_checksum = excluded.project_checksum,"
        " finished_at = now()",
        (state.complete_before, json.dumps(state.raw_files), state.project_checksum),
    )
    # Every row that had landed when the run began was tested by it or by an earlier run.
    cursor.execute(
        "insert into precog_meta.last_validation (complete_before) values (%s)"
        " on conflict (id) do update set complete_before = excluded.complete_before,"
        " validated_at = now()",
        (state.complete_before,),
    )


def forget_last_run(cursor) -> None:
    """The next run must run, whatever happens to this one (killed, failed)."""
    cursor.execute("delete from precog_meta.last_complete_run")


def full_refresh_owed(cursor, models: list[str], reporting_timezone: str) -> str | None:
    """Why the incremental `models` must be rebuilt whole, or None. Increments cannot unlearn
    rows that are gone nor re-cut buckets in another zone: a model owes a full refresh when,
    since it was last built, a raw table was replaced (a new file: TRUNCATE, `precog simulate
    --replace`, a restore) or the reporting time zone changed. A model never built owes none
    (its first build is whole anyway). Rows deleted one by one are not seen."""
    cursor.execute(
        """
        select built.model, built.reporting_timezone, (
            select string_agg(tables.relname, ', ' order by tables.relname)
            from pg_class as tables
            where tables.relnamespace = 'raw'::regnamespace and tables.relkind = 'r'
                and pg_relation_filenode(tables.oid)
                    is distinct from (built.raw_files ->> tables.relname)::oid
        )
        from precog_meta.built_from as built
        where built.model = any(%s)
        order by built.model
        """,
        (models,),
    )
    for model, zone, replaced in cursor.fetchall():
        if zone != reporting_timezone:
            return f"the reporting time zone changed from {zone} to {reporting_timezone}"
        if replaced:
            return f"raw was replaced since {model} was built ({replaced})"
    return None
