{#- Dashboard: the position table, live (trades landed since the last run included): the
    positions traded most recently first (a trade that lands brings its position to the top),
    the first position_limit of them (default 100), each row with positions_held, how many are
    held in all. API endpoint: GET /api/positions/current?limit=N. -#}
select *, count(*) over () as positions_held
from {{ ref('live_current_positions') }}
order by last_trade_at desc, position_id
limit {{ panel_parameter('position_limit', 100, 'integer') }}
