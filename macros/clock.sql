{#- The desk's "now": the live view's "today" and the dashboard's last N days are read from it.
    PostgreSQL's now() unless the session sets `precog.now` (a timestamptz), so a test or a
    replay of a past day pins the clock without touching the system's:
    `set precog.now = '2026-02-01 18:00+00'`, or PGOPTIONS='-c precog.now=...' for a process. -#}
{% macro desk_now() -%}
    coalesce(nullif(current_setting('precog.now', true), '')::timestamptz, now())
{%- endmacro %}
