-- What the last successful `precog run` had processed, so that a run with nothing new is skipped
-- (precog/pipeline/in_process.py): every raw row that landed before complete_before, the raw tables'
-- files (a truncate or a reload gives a table a new one), and the project as it was (models,
-- macros, Python, reporting time zone).
create table if not exists precog_meta.last_complete_run (
    id                  boolean     primary key default true check (id),
    complete_before     timestamptz not null,
    raw_files           jsonb       not null,
    project_checksum    text        not null,
    finished_at         timestamptz not null default now()
);

-- What each incremental dbt model was last built from: the reporting time zone its buckets are
-- cut in and the raw tables' files. A change of either owes the model a full refresh, however
-- dbt was started (macros/full_refresh.sql).
create table if not exists precog_meta.built_from (
    model               text        primary key,
    reporting_timezone  text        not null,
    raw_files           jsonb       not null,
    built_at            timestamptz not null default now()
);
