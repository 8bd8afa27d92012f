-- How far the last successful `precog run` validated: every raw row that landed before
-- complete_before (the start of that run, as last_complete_run records it) was tested by the
-- dbt tests and the suites of that run or an earlier one. Unlike last_complete_run it is kept
-- while the next run goes, so that run tests only what landed since: after a first build that
-- tested everything, the next hour is tested, not the whole history again
-- (bookkeeping.unvalidated_since, macros/test_windows.sql).
create table if not exists precog_meta.last_validation (
    id                  boolean     primary key default true check (id),
    complete_before     timestamptz not null,
    validated_at        timestamptz not null default now()
);
