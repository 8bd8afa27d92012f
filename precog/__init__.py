"""precog-analytics: the warehouse, the simulated desk, the importer, the statistics, the
benchmark and the command line. The Dagster code location is the sibling package
`orchestration`; the dbt project is the repository itself (dbt_project.yml)."""

import os
from pathlib import Path

# The repository: the dbt project, dagster.yaml and the embedded server's data live here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def reporting_timezone() -> str:
    """The zone of the daily and coarser buckets and of the schedules: PRECOG_REPORTING_TIMEZONE,
    UTC when unset (dbt's var reporting_timezone reads the same variable, dbt_project.yml)."""
    return os.environ.get("PRECOG_REPORTING_TIMEZONE") or "UTC"


DEFAULT_PARTITIONS_START = "2026-01-01"


def partitions_start() -> str:
    """The desk's first day (YYYY-MM-DD, in the reporting zone), where its landing windows, the
    Dagster partitions, begin: PRECOG_PARTITIONS_START, else DEFAULT_PARTITIONS_START. Windows
    before it are history, built by the first run; set it to the day the desk went live, or the
    UI shows every window since then as never run (`make demo` sets it in .env)."""
    return os.environ.get("PRECOG_PARTITIONS_START") or DEFAULT_PARTITIONS_START
