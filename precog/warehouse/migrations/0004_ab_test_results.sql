-- A/B test results (DESIGN.md, "A/B testing"): written by the Dagster asset marts/ab_test_results
-- (orchestration/defs/ab_testing/assets.py, analysis in precog/stats/ab_testing.py), read by the dbt
-- source `marts.ab_test_results` and the dashboard mart mv_ab_test_results.
--
-- Created here rather than by the asset so that dbt can build mv_ab_test_results on a fresh
-- database before the asset has ever run (it then holds no rows). The asset replaces one
-- experiment's rows at a time, delete + insert in one transaction, so a reader never sees a
-- half-written experiment. One row per (experiment_name, metric, test).

create schema if not exists marts;

create table if not exists marts.ab_test_results (
    experiment_name      text             not null,
    metric               text             not null,
    test                 text             not null,
    role                 text             not null,
    control_value        double precision,
    treatment_value      double precision,
    difference           double precision,
    relative_lift        double precision,
    ci_low               double precision,
    ci_high              double precision,
    statistic            double precision,
    p_value              double precision,
    p_adjusted           double precision,
    significant          boolean,
    alpha                double precision not null,
    mde                  double precision,
    n_control_markets    bigint           not null,
    n_treatment_markets  bigint           not null,
    n_control_trades     bigint           not null,
    n_treatment_trades   bigint           not null,
    reason               text,
    data_through         timestamptz,
    computed_at          timestamptz      not null,
    primary key (experiment_name, metric, test)
);
