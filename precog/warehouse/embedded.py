"""The embedded default: a private PostgreSQL from the `pgserver` wheel, its data under
`.precog/` in the project (PRECOG_DATA_DIR overrides). The project's own processes reach it
through a Unix socket inside the data folder (trust: only this machine's user can open it).
BI tools reach it on 127.0.0.1, as bi_reader with a password the project generates; every
other role is refused over TCP (pg_hba.conf, written here)."""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
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
            info = _listen_on_localhost(server.get_postmaster_info())
            _tune(info)
            return info
    except Exception as error:  # pgserver raises bare subprocess and OS errors
        log = pgdata() / "log"
        raise EmbeddedServerError(
            f"could not start the embedded PostgreSQL in {pgdata()} ({error}); "
            f"see {log}, or set PGHOST to use an existing server"
        ) from error


# Who may connect how: the socket (in the data folder) for the project's processes; TCP on
# 127.0.0.1 for bi_reader with its password, no one else.
PG_HBA = """\
# Written by precog/warehouse/embedded.py.
local all all trust
host all bi_reader 127.0.0.1/32 scram-sha-256
host all all 0.0.0.0/0 reject
host all all ::/0 reject
"""


def port() -> int:
    """The TCP port of 127.0.0.1 the server listens on: chosen free once, then kept, so a BI
    tool's connection keeps working."""
    saved = data_dir() / "port"
    return int(saved.read_text()) if saved.exists() else _choose_port()


def _choose_port() -> int:
    """The saved port if no one else took it while the server was down, else a free one."""
    from pgserver.utils import find_suitable_port

    saved = data_dir() / "port"
    if saved.exists():
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", int(saved.read_text())))
                return int(saved.read_text())
            except OSError:
                pass
    chosen = find_suitable_port("127.0.0.1")
    saved.write_text(str(chosen))
    return chosen


def bi_reader_password() -> str:
    """bi_reader's password on this server: generated once, kept beside the data (0600)."""
    saved = data_dir() / "bi_reader.password"
    if not saved.exists():
        # Written whole under another name, then renamed: never an empty or partial password.
        draft = saved.with_suffix(f".{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(18))
        if not saved.exists():
            draft.replace(saved)
        draft.unlink(missing_ok=True)
    return saved.read_text().strip()


def _listen_on_localhost(info):
    """pgserver starts the server on its socket only: restart it once on 127.0.0.1 as well,
    with the project's pg_hba.conf. A server already listening is left as it is."""
    if info.hostname == "127.0.0.1":
        return info
    from pgserver._commands import pg_ctl

    (pgdata() / "pg_hba.conf").write_text(PG_HBA)
    options = f"-h 127.0.0.1 -p {_choose_port()} -k {info.socket_dir}"
    pg_ctl(
        ["-w", "-m", "fast", "-o", options, "-l", str(pgdata() / "log"), "restart"],
        pgdata=pgdata(),
        user=_system_user(),
    )
    restarted = postmaster()
    if restarted is None:
        raise EmbeddedServerError(f"the server did not come back on 127.0.0.1:{port()}")
    return restarted


def _system_user() -> str | None:
    """pgserver runs the server as its own system user when we are root."""
    return "pgserver" if os.geteuid() == 0 else None


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

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata(), user=_system_user())
    return True
