-- Failed Dagster runs, one row each, written by sensor run_failure_report
-- (orchestration/defs/checks/run_failures.py): what failed first and why.
create table if not exists precog_meta.run_failures (
    run_id      text        primary key,
    job_name    text        not null,
    step_key    text,
    error       text        not null,
    reported_at timestamptz not null default now()
);
