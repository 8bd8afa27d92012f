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
