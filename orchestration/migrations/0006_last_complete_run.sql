-- What the last successful `precog run` had processed, so that a run with nothing new is skipped
-- (orchestration/pipeline.py): every raw row that landed before complete_before, the raw tables
-- as they were (a truncate gives a table a new file), and the project (models, macros, vars).
create table if not exists precog_meta.last_complete_run (
    id                  boolean     primary key default true check (id),
    complete_before     timestamptz not null,
    raw_files           jsonb       not null,
    project_checksum    text        not null,
    finished_at         timestamptz not null default now()
);

-- Set when raw was replaced whole (`precog simulate --replace`): the next run is a full refresh,
-- since incremental models cannot unlearn rows that are gone.
create table if not exists precog_meta.pending_rebuild (
    id                  boolean     primary key default true check (id),
    reason              text        not null,
    requested_at        timestamptz not null default now()
);

-- The reporting time zone the pipeline last built in: buckets are cut in it, so a change of zone
-- makes the next run a full refresh.
create table if not exists precog_meta.built_with (
    id                  boolean     primary key default true check (id),
    reporting_timezone  text        not null
);
