-- How far each incremental dbt model has processed the change log (intermediate.
-- int_position_changes): advanced in the same transaction as the model's rebuild
-- (macros/incremental.sql), so a failed build leaves its changes to the next run.
create table if not exists precog_meta.build_watermarks (
    model              text        primary key,
    captured_through   timestamptz not null
);

-- Edge versions that land late change the edge at entry of the positions on that market and
-- model: the change log finds those positions through this index.
create index if not exists positions_market_model_idx on raw.positions (market_id, model_id);
