"""Entry point `precog-dbt`: dbt, killed when the process that started it dies.

A `kill -9` of `precog run` (or of a Dagster run worker) would otherwise leave its dbt orphaned,
writing to the warehouse after the run was failed. The death signal is armed first thing, before
any import that takes time, and survives the exec of dbt. (The server then cancels the dead
dbt's statement within 2 s: migrations/0007_client_connection_check.sql.)
"""

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
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    os.execv(dbt, [dbt, *sys.argv[1:]])
