"""precog-analytics: the warehouse, the simulated desk, the importer, the statistics, the
benchmark and the command line. The Dagster code location is the sibling package
`orchestration`; the dbt project is the repository itself (dbt_project.yml)."""

from pathlib import Path

# The repository: the dbt project, dagster.yaml and the embedded server's data live here.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
