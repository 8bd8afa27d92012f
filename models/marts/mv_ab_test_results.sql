{#- Dashboard mart of the A/B tests (DESIGN.md, "A/B testing" and "Marts"): the results the
    Dagster asset marts/ab_test_results writes to the source table marts.ab_test_results, with
    the contract's types, rebuilt after each analysis. One row per (experiment_name, metric,
    test). Column meanings: models/marts/_ab_test_results.yml. -#}
{{ config(
    materialized='table',
    post_hook=[{
        'sql': "{{ copy_column_comments(this, source('marts', 'ab_test_results')) }}",
        'transaction': false,
    }],
    indexes=[
        {'columns': ['experiment_name', 'metric', 'test'], 'unique': True},
        {'columns': ['computed_at']},
    ],
) }}

select
    experiment_name::text as experiment_name,
    metric::text as metric,
    test::text as test,
    role::text as role,
    control_value::double precision as control_value,
    treatment_value::double precision as treatment_value,
    difference::double precision as difference,
    relative_lift::double precision as relative_lift,
    ci_low::double precision as ci_low,
    ci_high::double precision as ci_high,
    statistic::double precision as statistic,
    p_value::double precision as p_value,
    p_adjusted::double precision as p_adjusted,
    significant::boolean as significant,
    alpha::double precision as alpha,
    mde::double precision as mde,
    n_control_markets::bigint as n_control_markets,
    n_treatment_markets::bigint as n_treatment_markets,
    n_control_trades::bigint as n_control_trades,
    n_treatment_trades::bigint as n_treatment_trades,
    reason::text as reason,
    data_through::timestamptz as data_through,
    computed_at::timestamptz as computed_at
from {{ source('marts', 'ab_test_results') }}
