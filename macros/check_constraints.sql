{#- Invariants of the tables a run adds to, kept by the database on every write, as a grain is by
    a unique index (macros/unique_index.sql): the build that would write a row breaking one
    fails, and no test need read millions of rows each run for them. A not_null test of a NOT
    NULL column reads nothing (macros/overrides/test_not_null.sql). The tests that read a whole
    history for what the parts keep (tag whole_history: marts.performance_tracking's, over every
    level and trade; int_position_pnl's open quantity; int_closing_trade_edges' grain, which is
    int_trade_pnl's) run where a run validates everything (orchestration/defs/dbt/partitions.py). -#}

{#- A post-hook adding CHECK constraint `name` to the model's table: PostgreSQL then checks the
    rows already there, and every write after. Named after its expression too, so a changed
    expression replaces the old constraint at the next build. A CHECK lets a null expression
    pass: here a null breaks it. -#}
{% macro check_constraint(name, expression) -%}
    {%- set table = "to_regclass(" ~ dbt.string_literal(this.render()) ~ ")" -%}
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
                    and conname like {{ dbt.string_literal(name ~ '\_%') }}
            loop
                execute format('alter table %s drop constraint %I', {{ table }}, stale.conname);
            end loop;
            alter table {{ this }}
                add constraint {{ versioned }} check (coalesce({{ expression }}, false));
        end if;
    end
    $check$
{%- endmacro %}

{#- A post-hook making `columns` of the model's table NOT NULL, in one statement: one scan of the
    rows already there. A grain test then need not read a unique index's NOT NULL columns for
    the rows it cannot see. -#}
{% macro not_null_columns(columns) -%}
    {%- set table = "to_regclass(" ~ dbt.string_literal(this.render()) ~ ")" -%}
    do $not_null$
    declare
        missing text;
    begin
        select string_agg(format('alter column %I set not null', attname), ', ')
        into missing
        from pg_attribute
        where attrelid = {{ table }} and not attnotnull
            and attname = any(array[{% for column in columns %}{{ dbt.string_literal(column) }}
                {%- if not loop.last %}, {% endif %}{% endfor %}]::text[]);
        if missing is not null then
            execute format('alter table %s ', {{ table }}) || missing;
        end if;
    end
    $not_null$
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
