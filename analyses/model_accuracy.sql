{#- Dashboard: every model version's calibration metrics by league (ALL first): Brier score and
    its decomposition, ECE, MCE, log loss, Spiegelhalter's test. API endpoint:
    GET /api/models/accuracy -#}
select *
from {{ ref('mv_model_accuracy') }}
order by model_id, league <> 'ALL', league
