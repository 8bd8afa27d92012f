"""Validation and freshness of the pipeline, as Dagster asset checks.

- dbt tests: asset checks of the dbt assets themselves (dagster-dbt), blocking when their
  severity is error (defs/dbt/assets.py);
- Great Expectations suites (expectations.py, run by gx.py): check `great_expectations` on
  the raw landing tables `raw/trades` and `raw/positions` (the marts are dbt's to test);
- a failed run's report (run_failures.py);
- freshness (freshness.py): check `freshness` on the raw sources and on the hourly rollup level,
  run by sensor `freshness_sensor`.

Everything is derived from the dbt manifest when the definitions load; nothing touches the
database until a check runs.
"""
