"""Running the pipeline outside Dagster's own processes: `precog run` executes the code
location's jobs in process (in_process.py) and reports what they built (summary.py); dbt is
started through one door (dbt_runner.py), as a child killed with its parent (dbt_child.py)."""
