"""Entry point `precog-dbt`: dbt, killed when the process that started it dies.

A `kill -9` of `precog run` (or of a Dagster run worker) would otherwise leave its dbt orphaned,
writing to the warehouse after the run was failed. The death signal is armed first thing, before
any import that takes time, and survives the exec of dbt. (The server then cancels the dead
dbt's statement within 2 s: precog/warehouse/migrations/0007_client_connection_check.sql.)

Without PGHOST, dbt is pointed at the embedded server by the project's one rule
(precog/warehouse/database.py), through the libpq variables of the process it becomes.
"""

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = os.getppid()
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the signal was armed
        sys.exit("precog-dbt: the process that started dbt is gone")
    env = dict(os.environ)
    if not env.get("PGHOST"):
        from precog.warehouse import database

        # Not running: dbt's own commands that need no server (parse) still work, and those
        # that do fail on the profile's placeholder host, never on a stray local server.
        with contextlib.suppress(database.DatabaseError):
            env.update(database.warehouse(start=False).libpq_env())
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    os.execve(dbt, [dbt, *sys.argv[1:]], env)
