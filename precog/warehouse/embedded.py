"""The embedded default: a private PostgreSQL from the `pgserver` wheel, its data under
`.precog/` in the project (PRECOG_DATA_DIR overrides), listening on a Unix socket only."""

from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path

import psycopg2

from precog import PROJECT_ROOT

# pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); the fallback is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


class EmbeddedServerError(RuntimeError):
    """The embedded server could not start."""


def data_dir() -> Path:
    """Where the embedded server keeps its files (git-ignored); PRECOG_DATA_DIR overrides."""
    return Path(os.environ.get("PRECOG_DATA_DIR", PROJECT_ROOT / ".precog")).resolve()


def pgdata() -> Path:
    return data_dir() / "pgdata"


def postmaster():
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata()) if pgdata().exists() else None
    return info if info is not None and info.is_running() and info.status == "ready" else None


def start():
    """The running server, started (and created, the first time) if need be. Processes starting
    it at once take turns (a lock beside its data): one creates it, the others find it up."""
    running = postmaster()
    if running is not None:
        return running
    try:
        import pgserver

        pgdata().mkdir(parents=True, exist_ok=True)
        with (data_dir() / ".start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            running = postmaster()
            if running is not None:
                return running
            # cleanup_mode=None: the server outlives this process until `precog db stop`.
            server = pgserver.get_server(pgdata(), cleanup_mode=None)
            info = server.get_postmaster_info()
            _tune(info)
            return info
    except Exception as error:  # pgserver raises bare subprocess and OS errors
        log = pgdata() / "log"
        raise EmbeddedServerError(
            f"could not start the embedded PostgreSQL in {pgdata()} ({error}); "
            f"see {log}, or set PGHOST to use an existing server"
        ) from error


# initdb's defaults are sized for a small shared host; the embedded server builds rollups over
# millions of rows. Settings that apply on reload only (shared_buffers would need a restart).
EMBEDDED_SETTINGS = {
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "15min",
}


def _tune(info) -> None:
    connection = psycopg2.connect(
        host=str(info.socket_dir), port=int(info.port), user="postgres", dbname="postgres"
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        for name, value in EMBEDDED_SETTINGS.items():
            cursor.execute(f"alter system set {name} = %s", (value,))
        cursor.execute("select pg_reload_conf()")
    connection.close()


def stop() -> bool:
    """Stop the embedded server; False if it was not running."""
    info = postmaster()
    if info is None:
        return False
    from pgserver._commands import pg_ctl

    # pgserver runs the server as its own system user when we are root.
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata(), user=user)
    return True
