"""A failed run is reported, not only listed: sensor `run_failure_report` writes each failed
run of the project's jobs, with the step that failed first and its error, to
precog_meta.run_failures (a table an operator or an alerting job can query) and to the daemon's
log."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from precog.warehouse import database


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else "no error recorded"


def step_error(event: dg.DagsterEvent) -> str:
    """What made a step fail, in one line: the innermost cause (the op's own exception, not
    Dagster's wrapper around it)."""
    error = event.step_failure_data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return first_line(error.message if error else None)


def first_failure(context: dg.RunFailureSensorContext) -> tuple[str | None, str]:
    """The step that failed first and its error; else the run's own error."""
    for event in context.get_step_failure_events():
        return event.step_key, step_error(event)
    return None, first_line(context.failure_event.message)


@dg.run_failure_sensor(
    name="run_failure_report",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records every failed run, its first failed step and error, in "
    "precog_meta.run_failures.",
)
def run_failure_report(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    step, error = first_failure(context)
    run = context.dagster_run
    context.log.error(f"run {run.run_id} of job {run.job_name} failed in {step}: {error}")
    with database.transaction(warehouse.target) as cursor:
        cursor.execute(
            "insert into precog_meta.run_failures (run_id, job_name, step_key, error)"
            " values (%s, %s, %s, %s) on conflict (run_id) do nothing",
            (run.run_id, run.job_name, step, error),
        )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[run_failure_report])
