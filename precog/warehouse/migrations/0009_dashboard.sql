-- The dashboard's live signal (precog/dashboard/live.py): a statement that lands trades or
-- position versions notifies channel precog_landed, once per statement (not per row), with the
-- table's name. LISTEN needs no privilege, so bi_reader hears it; the notification is sent when
-- the landing commits, and not at all if it rolls back.
create or replace function precog_meta.notify_landed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('precog_landed', tg_table_name);
    return null;
end
$$;

drop trigger if exists notify_landed on raw.trades;
create trigger notify_landed after insert or update or delete on raw.trades
    for each statement execute function precog_meta.notify_landed();

drop trigger if exists notify_landed on raw.positions;
create trigger notify_landed after insert or update or delete on raw.positions
    for each statement execute function precog_meta.notify_landed();

-- The dashboard's monitoring (GET /metrics): how long each table's last build took, beside when
-- it started (macros/full_refresh.sql, record_build; published as marts.model_builds).
alter table precog_meta.built_from add column if not exists build_seconds numeric;

-- BI tools show comments: this table of marts is not built by dbt, so its comment is here (its
-- columns take the descriptions of marts.mv_ab_test_results, copied by that model's hook).
comment on table marts.ab_test_results is
    'Results of the A/B analysis as the Dagster asset marts/ab_test_results writes them, one row per experiment, metric and test; marts.mv_ab_test_results publishes them with the contract''s types.';
