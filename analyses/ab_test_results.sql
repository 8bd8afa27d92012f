{#- Dashboard: the results of each A/B experiment, the decision rows first. API endpoint:
    GET /api/experiments/results. -#}
select *
from {{ ref('mv_ab_test_results') }}
order by experiment_name,
    case role when 'guardrail' then 0 when 'primary' then 1 when 'secondary' then 2 else 3 end,
    metric, test
