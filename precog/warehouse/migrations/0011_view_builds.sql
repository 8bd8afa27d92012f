-- The views dbt built, and from what definition (macros/overrides/view.sql): a view whose
-- definition did not change is kept rather than recreated by every run. Emptied whenever a
-- migration is applied (database.migrate), as a view reading `raw` with `source.*` takes the
-- columns raw has when the view is created.
create table if not exists precog_meta.view_builds (
    schema_name text not null,
    view_name text not null,
    view_oid oid not null,
    checksum text not null,
    built_at timestamptz not null default now(),
    primary key (schema_name, view_name)
);
