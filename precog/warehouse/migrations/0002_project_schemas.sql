-- The schemas of the dbt layers (models/staging, models/intermediate, models/marts), created up
-- front so grants can be declared before the first build, and the simulator's own bookkeeping.
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;

-- What `precog simulate` generated, so that `--append-hours` continues the same world.
create schema if not exists precog_meta;
create table if not exists precog_meta.simulation (
    id                  boolean     primary key default true check (id),
    seed                bigint      not null,
    games_per_day       double precision not null,
    history_start       timestamptz not null,
    simulated_through   timestamptz not null,
    updated_at          timestamptz not null default now()
);
