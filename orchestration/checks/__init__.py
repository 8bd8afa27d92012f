"""Validation and freshness of the pipeline, as Dagster asset checks.

- dbt tests: asset checks of the dbt assets themselves (dagster-dbt), blocking when their
  severity is error (orchestration/assets/dbt.py);
- Great Expectations suites (expectations.py, run by gx.py): check `great_expectations` on
  `raw/trades`, `raw/positions` and the marts;
- freshness (freshness.py): check `freshness` on the raw sources and on the hourly rollup level,
  run by sensor `freshness_sensor`.

Everything is derived from the dbt manifest when the definitions load; nothing touches the
database until a check runs.
"""

from __future__ import annotations

import dagster as dg

from orchestration.checks.freshness import freshness_checks, freshness_job_and_sensor
from orchestration.checks.gx import great_expectations_checks
from orchestration.checks.manifest import load_manifest

__all__ = ["all_checks", "freshness_job_and_sensor"]


def all_checks() -> tuple[list[dg.AssetChecksDefinition], list[dg.AssetChecksDefinition]]:
    """(Great Expectations checks, freshness checks) of the project's manifest."""
    manifest = load_manifest()
    return great_expectations_checks(manifest), freshness_checks(manifest)
