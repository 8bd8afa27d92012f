{#- Invariants of the tables a run adds to, kept by the database on every write, as a grain is by
    a unique index (macros/unique_index.sql): the build that would write a row breaking one
    fails, and no test need read millions of rows each run for them. A not_null test of a NOT
    NULL column reads nothing (macros/overrides/test_not_null.sql). The tests that read a whole
    history for what the parts keep (tag whole_history: marts.performance_tracking's, over every
    level and trade; int_position_pnl's open quantity; int_closing_trade_edges' grain, which is
    int_trade_pnl's) run where a run validates everything (orchestration/defs/dbt/partitions.py). -#}

{#- A post-hook adding CHECK constraint `name` to the model's table, NOT VALID: a catalog entry,
    no scan, while the build's transaction holds the table (a full refresh swaps it in under a
    lock readers wait on). Every write after is checked; the rows already there are validated
    after the commit (validate_constraints). Named after its expression too, so a changed
    expression replaces the old constraint at the next build. A CHECK lets a null expression
    pass: here a null breaks it. -#}
{% macro check_constraint(name, expression) -%}
    {{ add_check(name, 'coalesce(' ~ expression ~ ', false)') }}
{%- endmacro %}

{#- A post-hook making `columns` of the model's table NOT NULL: a CHECK that they are not null
    (never null itself), which, once validated, lets validate_constraints declare them NOT NULL
    without reading the table. -#}
{% macro not_null_columns(columns) -%}
    {{ add_check('not_null', columns | join(' is not null and ') ~ ' is not null') }}
{%- endmacro %}

{% macro add_check(name, expression) -%}
    {%- set table = this_regclass() -%}
    {%- set versioned = name ~ '_' ~ local_md5(expression)[:8] -%}
    do $check$
    declare
        stale record;
    begin
        if not exists (
            select from pg_constraint
            where conrelid = {{ table }} and conname = {{ dbt.string_literal(versioned) }}
        ) then
            for stale in
                select conname from pg_constraint
                where conrelid = {{ table }} and contype = 'c'
                    and conname like {{ dbt.string_literal(name ~ '\\_%') }}
            loop
                execute format('alter table %s drop constraint %I', {{ table }}, stale.conname);
            end loop;
            alter table {{ this }} add constraint {{ versioned }} check ({{ expression }}) not valid;
        end if;
    end
    $check$
{%- endmacro %}

{#- Post-hook of every model, after its transaction's commit (dbt_project.yml): validates the
    table's CHECK constraints not validated yet (a lock readers do not wait on), then declares
    NOT NULL the columns a validated not_null CHECK covers. That needs a moment's exclusive lock:
    tried for 100 ms, else left to the next build, so a reader is never kept waiting longer. -#}
{% macro validate_constraints() -%}
    {%- if model.config.materialized not in ('table', 'incremental') -%}
    select 1
    {%- else -%}
    {%- set table = this_regclass() -%}
    do $validate$
    declare
        pending record;
        missing text;
    begin
        for pending in
            select conname from pg_constraint
            where conrelid = {{ table }} and contype = 'c' and not convalidated
        loop
            execute format('alter table %s validate constraint %I', {{ table }}, pending.conname);
        end loop;
        select string_agg(format('alter column %I set not null', attributes.attname), ', ')
        into missing
        from pg_constraint as checks
        inner join pg_attribute as attributes
            on attributes.attrelid = checks.conrelid and attributes.attnum = any(checks.conkey)
        where checks.conrelid = {{ table }} and checks.contype = 'c' and checks.convalidated
            and checks.conname like 'not\_null\_%' and not attributes.attnotnull;
        if missing is not null then
            begin
                perform set_config('lock_timeout', '100ms', true);
                execute format('alter table %s ', {{ table }}) || missing;
            exception when lock_not_available then
                raise notice 'NOT NULL of % left to the next build: readers held it', {{ table }};
            end;
        end if;
    end
    $validate$
    {%- endif -%}
{%- endmacro %}

{#- The model's table as a regclass, in SQL (null if it is gone). -#}
{% macro this_regclass() -%}
    to_regclass({{ dbt.string_literal(this.render()) }})
{%- endmacro %}

{#- A level's grain columns, all present but the all-time bucket's start, which has none. -#}
{% macro level_not_null_columns() -%}
    {%- set columns = rollup_dimensions().split(', ') -%}
    {%- if this.identifier != 'int_pnl_all_time' -%}
        {%- do columns.append('period_start') -%}
    {%- endif -%}
    {{- return(columns) -}}
{%- endmacro %}

{#- A level's components in their ranges (win_rate in [0, 1] and profit_factor >= 0 follow). -#}
{% macro level_component_ranges() -%}
    total_trades >= 1 and closed_trades <= total_trades and winning_trades >= 0
    and losing_trades >= 0 and winning_trades + losing_trades <= closed_trades and fees >= 0
    and gross_profit >= 0 and gross_loss <= 0 and max_drawdown >= 0
{%- endmacro %}
