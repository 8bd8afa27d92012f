{#- Overrides dbt's should_full_refresh(): a model is rebuilt whole when asked (--full-refresh,
    or its config). Whether it must be is decided once, in Python, where the run's dbt arguments
    are built (orchestration/defs/dbt/partitions.py, RunScope.dbt_build_args, from
    precog/warehouse/bookkeeping.py's full_refresh_owed): `precog run`, the schedules and the
    UI's runs ask for it when it is owed. A model that owes one and is not asked (dbt started by
    hand) fails with the reason rather than build increments over a replaced raw or in another
    zone (macros/full_refresh.sql). -#}
{% macro should_full_refresh() -%}
    {%- set asked = config.get('full_refresh') -%}
    {%- if asked is none -%}
        {%- set asked = flags.FULL_REFRESH -%}
    {%- endif -%}
    {#- the guard: only where increments would be built (not `dbt compile` or docs), and not
        against a model's own `full_refresh: false` -#}
    {%- if not asked and config.get('full_refresh') is none and flags.WHICH in ('run', 'build') -%}
        {%- set owed = full_refresh_owed() -%}
        {%- if owed is not none -%}
            {%- do exceptions.raise_compiler_error(
                this.identifier ~ ' must be rebuilt whole: ' ~ owed
                ~ '. Run dbt with --full-refresh (precog run decides it by itself).'
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(asked) -%}
{%- endmacro %}
