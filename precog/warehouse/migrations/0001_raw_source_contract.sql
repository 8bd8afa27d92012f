-- The source contract (DESIGN.md, "Source contract"): the trading system's operational tables
-- as they land in the warehouse.
--
-- `raw` is a landing zone replicated from the trading app. It enforces types and NOT NULL, and
-- deliberately not the business rules (price ranges, unique trade ids, one current SCD row, ...):
-- a row that breaks them must still land so that dbt can quarantine it with a reason instead of
-- the replication losing it. The rules are checked in models/staging.

create schema if not exists raw;

create table if not exists raw.markets (
    market_key        bigint      primary key,
    market_id         bigint      not null,
    ticker            text        not null,
    league            text        not null,
    market_type       text        not null,
    event_start_ts    timestamptz not null,
    close_ts          timestamptz not null,
    yes_bid           numeric,
    yes_ask           numeric,
    no_bid            numeric,
    no_ask            numeric,
    volume            bigint      not null default 0,
    status            text        not null,
    settlement_value  numeric,
    row_current_ind   boolean     not null default true,
    row_start_ts      timestamptz not null,
    row_end_ts        timestamptz,
    row_version       integer     not null default 1,
    loaded_at         timestamptz not null default now()
);
create index if not exists markets_market_id_idx on raw.markets (market_id, row_start_ts);
create index if not exists markets_loaded_at_idx on raw.markets (loaded_at);

create table if not exists raw.strategies (
    strategy_id       bigint      primary key,
    strategy_name     text        not null,
    strategy_version  text        not null,
    config            jsonb       not null,
    status            text        not null,
    loaded_at         timestamptz not null default now(),
    unique (strategy_name, strategy_version)
);

create table if not exists raw.probability_models (
    model_id          bigint      primary key,
    model_name        text        not null,
    model_version     text        not null,
    config            jsonb       not null,
    status            text        not null,
    loaded_at         timestamptz not null default now(),
    unique (model_name, model_version)
);

create table if not exists raw.positions (
    position_key      bigint      primary key,
    position_id       bigint      not null,
    market_id         bigint      not null,
    strategy_id       bigint      not null,
    model_id          bigint      not null,
    side              text        not null,
    quantity          numeric     not null,
    entry_price       numeric     not null,
    current_price     numeric,
    unrealized_pnl    numeric,
    status            text        not null,
    row_current_ind   boolean     not null default true,
    row_start_ts      timestamptz not null,
    row_end_ts        timestamptz,
    row_version       integer     not null default 1,
    loaded_at         timestamptz not null default now()
);
create index if not exists positions_position_id_idx on raw.positions (position_id, row_start_ts);
create index if not exists positions_loaded_at_idx on raw.positions (loaded_at);

-- trade_id is the contract's key, but not a constraint here: a duplicate must land to be
-- quarantined (see the comment at the top).
create table if not exists raw.trades (
    trade_id            bigint      not null,
    position_id         bigint      not null,
    action              text        not null,
    quantity            numeric     not null,
    price               numeric     not null,
    fees                numeric     not null,
    execution_timestamp timestamptz not null,
    loaded_at           timestamptz not null default now()
);
create index if not exists trades_trade_id_idx on raw.trades (trade_id);
create index if not exists trades_position_id_idx on raw.trades (position_id, execution_timestamp);
create index if not exists trades_loaded_at_idx on raw.trades (loaded_at);

create table if not exists raw.edges (
    edge_key          bigint      primary key,
    market_id         bigint      not null,
    model_id          bigint      not null,
    predicted_prob    numeric     not null,
    market_price      numeric     not null,
    edge              numeric     not null,
    confidence        numeric,
    row_current_ind   boolean     not null default true,
    row_start_ts      timestamptz not null,
    row_end_ts        timestamptz,
    row_version       integer     not null default 1,
    loaded_at         timestamptz not null default now()
);
create index if not exists edges_market_model_idx on raw.edges (market_id, model_id, row_start_ts);
create index if not exists edges_loaded_at_idx on raw.edges (loaded_at);

create table if not exists raw.model_predictions (
    prediction_id        bigint      primary key,
    model_id             bigint      not null,
    market_id            bigint      not null,
    predicted_prob       numeric     not null,
    features             jsonb       not null default '{}',
    prediction_timestamp timestamptz not null,
    loaded_at            timestamptz not null default now()
);
create index if not exists model_predictions_model_market_idx
    on raw.model_predictions (model_id, market_id, prediction_timestamp);
create index if not exists model_predictions_loaded_at_idx on raw.model_predictions (loaded_at);

create table if not exists raw.ab_experiments (
    experiment_name        text        primary key,
    control_strategy_id    bigint      not null,
    treatment_strategy_id  bigint      not null,
    traffic_split          numeric     not null,
    start_ts               timestamptz not null,
    end_ts                 timestamptz,
    status                 text        not null,
    primary_metric         text        not null,
    alpha                  numeric     not null default 0.05,
    loaded_at              timestamptz not null default now()
);

create table if not exists raw.ab_test_assignments (
    assignment_id       bigint      primary key,
    experiment_name     text        not null,
    market_id           bigint      not null,
    variant             text        not null,
    stratification_key  text        not null,
    assigned_at         timestamptz not null,
    loaded_at           timestamptz not null default now(),
    unique (experiment_name, market_id)
);
create index if not exists ab_test_assignments_loaded_at_idx on raw.ab_test_assignments (loaded_at);

-- Lines of imported CSV files that broke the contract: kept whole, with where they came from
-- and why, so that nothing an import was given is lost (precog import-trades).
create table if not exists raw.trade_import_rejects (
    file_name    text        not null,
    line_number  integer     not null,
    line         text        not null,
    reason       text        not null,
    loaded_at    timestamptz not null default now()
);

-- Where each imported trade came from, so a quarantined one can be reported with its line.
create table if not exists raw.trade_import_lines (
    file_name    text        not null,
    line_number  integer     not null,
    trade_id     bigint      not null,
    loaded_at    timestamptz not null default now()
);
create index if not exists trade_import_lines_trade_id_idx on raw.trade_import_lines (trade_id);
