{#- Dashboard: the position table, newest first. API endpoint: GET /positions/current. -#}
select *
from {{ ref('mv_current_positions') }}
order by opened_at desc, position_id
