"""`precog`: the project's command line."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dotenv

from precog import DEFAULT_PARTITIONS_START, PROJECT_ROOT, reporting_timezone
from precog.pipeline.summary import summary
from precog.warehouse import database, embedded


class CommandError(RuntimeError):
    """A failure the user can act on: printed as one line, exit code 1."""


def _use_warehouse() -> database.Warehouse:
    """The warehouse, started (if embedded) and migrated. Nothing is exported: every part
    resolves it by the same rule (precog/warehouse/database.py), dbt's processes included."""
    return database.prepare()


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from error
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def _check_settings() -> None:
    """The settings a run reads from the environment, checked before anything starts."""
    zone = os.environ.get("PRECOG_REPORTING_TIMEZONE")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise CommandError(
                f"PRECOG_REPORTING_TIMEZONE={zone!r} is not a time zone: give an IANA name"
                " such as America/New_York, or unset it for UTC"
            ) from error
    start = os.environ.get("PRECOG_PARTITIONS_START")
    if start:
        try:
            first_day = datetime.strptime(start, "%Y-%m-%d").date()
        except ValueError as error:
            raise CommandError(
                f"PRECOG_PARTITIONS_START={start!r} is not a day: give the desk's first day as"
                f" YYYY-MM-DD, or unset it for {DEFAULT_PARTITIONS_START}"
            ) from error
        if first_day >= datetime.now(ZoneInfo(reporting_timezone())).date():
            raise CommandError(
                f"PRECOG_PARTITIONS_START={start!r} is not before today: the daily job has no"
                " finished day to run for; give an earlier day"
            )


# --- precog db ----------------------------------------------------------------------------


def db_start(_: argparse.Namespace) -> None:
    target = database.warehouse()
    applied = database.migrate(target)
    database.prepare()  # and Dagster's database beside it
    print(target.describe())
    print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")


def db_stop(_: argparse.Namespace) -> None:
    if database.is_external():
        raise CommandError("PGHOST is set: the external server is not this project's to stop")
    print("embedded server stopped" if embedded.stop() else "embedded server not running")


def db_status(_: argparse.Namespace) -> None:
    try:
        target = database.warehouse(start=False)
    except database.DatabaseError:
        print("embedded server: not running (commands start it on demand; or `precog db start`)")
        return
    connection = database.connect(target)
    with connection, connection.cursor() as cursor:
        cursor.execute("show server_version")
        version = cursor.fetchone()[0]
    connection.close()
    print(f"{target.describe()} (PostgreSQL {version}, reachable)")


def db_url(args: argparse.Namespace) -> None:
    if args.role == "bi_reader":
        print(database.bi_reader_url(database.prepare()))
    else:
        print(database.warehouse(start=not database.is_external()).url())


def db_env(_: argparse.Namespace) -> None:
    """Prints settings and changes no server (the embedded one is started if it is down)."""
    target = database.warehouse(start=not database.is_external())
    for name, value in {**target.libpq_env(), **target.dagster_env()}.items():
        print(f"export {name}={shlex.quote(value)}")


# --- precog simulate / import-trades / run ---------------------------------------------------


def simulate(args: argparse.Namespace) -> None:
    from precog import simulator

    _use_warehouse()
    if args.append_hours:
        report = simulator.append_hours(args.append_hours)
        print(report)
    elif args.bad_rows:
        counts = simulator.add_bad_rows(args.bad_rows, seed=args.seed)
        for kind, count in counts.items():
            print(f"{kind:28} {count}")
        print(f"{'total':28} {sum(counts.values())}")
    elif args.if_empty and not simulator.raw_is_empty():
        print(
            "the warehouse already holds a desk: kept as it is"
            " (`precog simulate --trades N --replace` starts over)"
        )
    else:
        end = args.end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        report = simulator.simulate_history(
            trades=args.trades, seed=args.seed, end=end, replace=args.replace
        )
        print(report)


def import_trades(args: argparse.Namespace) -> None:
    from precog.ingest import trades_csv as importer

    if args.file.is_dir():
        raise CommandError(f"{args.file} is a directory: give the CSV file to import")
    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    _use_warehouse()
    try:
        report = importer.import_trades(args.file)
    except importer.ImportFileError as error:
        raise CommandError(f"{args.file} was not imported: {error}") from error
    print(report)


def run(args: argparse.Namespace) -> None:
    _check_settings()  # before the definitions load, which read them
    from precog.pipeline import in_process

    target = _use_warehouse()
    database_died = CommandError(
        f"the database stopped answering during the run ({target.describe()}). Nothing is"
        " lost: run `precog run` again once it is back (the embedded server restarts by itself)"
    )
    try:
        outcome = in_process.run(full_refresh=args.full_refresh, verbose=args.verbose)
    # A lost server surfaces as psycopg2's, SQLAlchemy's or Dagster's storage's own exception,
    # whichever touched it first: asking the server tells which it was.
    except Exception as error:
        if database.answers(target):
            raise  # another problem (a timeout, a full disk, ...): its own message
        raise database_died from error
    for run_id in outcome.failed_orphans:
        print(f"failed run {run_id}: its process was gone (killed); its pool slots are freed")
    if not outcome.success:
        if not database.answers(target):
            raise database_died
        details = f"dbt's output in {outcome.dbt_log}" if outcome.dbt_log else "the log above"
        raise CommandError(
            f"{outcome.reason}. Fix the cause ({details} has the details) and run"
            " `precog run` again: it resumes where this one stopped"
        )
    if not outcome.ran:
        print(f"precog run: {outcome.reason}: nothing to do")
        return
    if outcome.reason:
        print(f"precog run: {outcome.reason}")
    print(summary(target))
    if outcome.dbt_log:
        print(f"  dbt's output of this run: {outcome.dbt_log}")


def bench(args: argparse.Namespace) -> None:
    from precog.bench import measure as benchmark

    _check_settings()
    sizes = ", ".join(f"{n:,}" for n in args.trades)
    print(
        f"precog bench: {sizes} trades, each in a fresh database; on 2 cores about 13 minutes"
        " at 1M and 100 at 10M (most of it the on-demand answers it times the marts against)",
        flush=True,
    )
    print(benchmark.run(args.trades, seed=args.seed))


def dashboard(args: argparse.Namespace) -> None:
    from precog.dashboard import server

    _check_settings()
    as_of = args.as_of.isoformat() if args.as_of else None
    server.serve(_use_warehouse(), args.host, args.port, as_of=as_of)


# --- parser -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="precog",
        description="Precog analytics: the warehouse, its simulator and its pipeline. "
        "Uses PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE when PGHOST is set, "
        "else an embedded PostgreSQL with its data under .precog/.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_db(commands)
    _add_simulate(commands)
    _add_import_trades(commands)
    _add_run(commands)
    _add_bench(commands)
    _add_dashboard(commands)
    return parser


def _add_db(commands) -> None:
    """precog db start|stop|status|url|env"""
    db = commands.add_parser("db", help="the warehouse server").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    for name, handler, help_text in [
        ("start", db_start, "start the embedded server (if used) and create schemas and tables"),
        ("stop", db_stop, "stop the embedded server"),
        ("status", db_status, "say which server is in use and whether it answers"),
        ("url", db_url, "print the connection URL in use"),
        ("env", db_env, 'print PG* and DAGSTER_* exports for a shell: eval "$(precog db env)"'),
    ]:
        db.add_parser(name, help=help_text, description=help_text).set_defaults(handler=handler)
    db.choices["url"].add_argument(
        "--role",
        choices=["owner", "bi_reader"],
        default="owner",
        help="bi_reader: the URL a BI tool connects with (embedded: 127.0.0.1 and a password"
        " generated for this server); owner (default): the project's own connection",
    )


def _add_simulate(commands) -> None:
    """precog simulate"""
    sim = commands.add_parser(
        "simulate",
        help="fill schema raw with a simulated trading desk",
        description="Simulate a Kalshi-style sports trading desk into schema raw: a fresh "
        "history (--trades), more hours of it (--append-hours), or contract-breaking rows "
        "(--bad-rows).",
    )
    mode = sim.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--trades",
        type=_positive,
        metavar="N",
        help="a fresh history of about N trades, into an empty raw (with --replace: replacing"
        " everything in raw)",
    )
    mode.add_argument("--append-hours", type=_positive, metavar="H", help="continue H hours")
    mode.add_argument("--bad-rows", type=_positive, metavar="N", help="add N bad rows")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--end", type=_timestamp, help="end of the fresh history (default: the current hour)"
    )
    sim.add_argument(
        "--replace",
        action="store_true",
        help="replace a populated raw whole, imported trades included (the next run rebuilds)",
    )
    sim.add_argument(
        "--if-empty",
        action="store_true",
        help="simulate only into an empty raw; a populated one is kept (make demo)",
    )
    sim.set_defaults(handler=simulate)


def _add_import_trades(commands) -> None:
    """precog import-trades"""
    imp = commands.add_parser(
        "import-trades",
        help="bulk import historical trades from a CSV file",
        description="Import trades from a CSV with header trade_id, position_id, action, "
        "quantity, price, fees, execution_timestamp. Bad lines are kept with line number and "
        "reason; a file that is not such a CSV is refused and nothing is loaded.",
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.set_defaults(handler=import_trades)


def _add_run(commands) -> None:
    """precog run"""
    run_parser = commands.add_parser(
        "run",
        help="run the whole pipeline once, in process, through Dagster",
        description="Materialize every asset once, in process, through the Dagster definitions.",
    )
    run_parser.add_argument(
        "--full-refresh", action="store_true", help="rebuild incremental models from scratch"
    )
    run_parser.add_argument(
        "--verbose", action="store_true", help="Dagster's debug events too (default: info)"
    )
    run_parser.set_defaults(handler=run)


def _add_bench(commands) -> None:
    """precog bench"""
    bench_parser = commands.add_parser(
        "bench",
        help="measure load, the jobs and the dashboard side by side (database <name>_bench)",
        description="Benchmarks measured side by side in one run, in a separate database "
        "(<database>_bench, recreated): simulator load rate, the SQL floor, `precog run` end "
        "to end (the first full build against the floors, nothing new, an hour landed: the "
        "hourly and daily jobs), the size of each level, the dashboard's queries against "
        "their on-demand answers, the live view and the served dashboard.",
    )
    bench_parser.add_argument(
        "--trades",
        type=_positive,
        nargs="+",
        default=[1_000_000, 10_000_000],
        metavar="N",
        help="history sizes (default: 1000000 10000000)",
    )
    bench_parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    bench_parser.set_defaults(handler=bench)


def _add_dashboard(commands) -> None:
    """precog dashboard"""
    board = commands.add_parser(
        "dashboard",
        help="serve the desk's dashboard, its API, live stream and metrics",
        description="Serve the dashboard (/), its API (/api/..., OpenAPI at /docs), the live "
        "stream (/api/live) and Prometheus metrics (/metrics), reading schema marts as "
        "bi_reader. Binds to 127.0.0.1 unless --host says otherwise.",
    )
    board.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    board.add_argument("--port", type=_positive, default=8050, help="port (default 8050)")
    board.add_argument(
        "--as-of",
        type=_timestamp,
        metavar="TIMESTAMP",
        help="the desk's clock (today, the last N days): replay a past day (default: now)",
    )
    board.set_defaults(handler=dashboard)


def main(argv: list[str] | None = None) -> int:
    # The project's settings file, as Dagster's and dg's commands read it; the environment wins.
    dotenv.load_dotenv(PROJECT_ROOT / ".env", override=False)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, with its own usage
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices[args.command]
        if args.command == "db":
            command = command._subparsers._group_actions[0].choices[args.db_command]
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    options = args.command == "simulate" and (args.end or args.replace or args.if_empty)
    if options and (not args.trades or (args.replace and args.if_empty)):
        build_parser().error(
            "--end, --replace and --if-empty go with --trades; not both of the last"
        )
    try:
        args.handler(args)
    except (CommandError, database.DatabaseError) as error:
        print(f"precog: error: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if os.environ.get("PRECOG_DEBUG"):
            raise
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        print(
            f"precog: error: {type(error).__name__}: {first_line} (PRECOG_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
