"""One folder per domain: `dbt/` (the dbt project as assets, its partitions, jobs and
schedules), `ab_testing/` (the A/B asset), `checks/` (Great Expectations suites and freshness),
and `resources.py` (the warehouse, shared by all)."""
