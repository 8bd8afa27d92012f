{#- Dashboard: the position table, live (trades landed since the last run included), newest
    first. API endpoint: GET /api/positions/current. -#}
select *
from {{ ref('live_current_positions') }}
order by opened_at desc, position_id
