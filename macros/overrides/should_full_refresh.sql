{#- Overrides dbt's should_full_refresh(): a model is rebuilt whole when asked (--full-refresh,
    or its config), and also when it owes it. Incremental models cannot unlearn rows that are
    gone nor re-cut buckets in another zone, so an incremental model owes a full refresh when,
    since it was last built, a raw table was replaced (TRUNCATE, `precog simulate --replace`, a
    restore: the table has a new file) or the reporting time zone changed. Rows deleted one by
    one are not seen: run a full refresh after such a repair. Decided here, once per model,
    whoever started dbt (`precog run`, a Dagster schedule, the UI, dbt by hand). -#}
{% macro should_full_refresh() -%}
    {%- set asked = config.get('full_refresh') -%}
    {%- if asked is none -%}
        {%- set asked = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- do return(asked or full_refresh_owed() is not none) -%}
{%- endmacro %}
