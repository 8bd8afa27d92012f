{#- Invariants of the tables a run adds to, kept by the database on every write, as a grain is by
    a unique index (macros/unique_index.sql): the build that would write a row breaking one
    fails, and no test need read millions of rows each run for them. A not_null test of a NOT
    NULL column reads nothing (macros/overrides/test_not_null.sql); the tests of what a CHECK
    keeps (tag whole_history: those of marts.performance_tracking, over every level and trade,
    of int_position_pnl and of int_closing_trade_edges) run where a run validates everything
    (orchestration/defs/dbt/partitions.py). -#}

{#- A post-hook adding CHECK constraint `name` to the model's table once: PostgreSQL then checks
    the rows already there, and every write after. A CHECK lets a null expression pass: here a
    null breaks it. -#}
{% macro check_constraint(name, expression) -%}
    do $check$
    begin
        if not exists (
            select from pg_constraint
            where conrelid = to_regclass({{ dbt.string_literal(this.render()) }})
                and conname = {{ dbt.string_literal(name) }}
        ) then
            alter table {{ this }} add constraint {{ name }} check (coalesce({{ expression }}, false));
        end if;
    end
    $check$
{%- endmacro %}

{#- A post-hook making `columns` of the model's table NOT NULL, once. A grain test then need not
    read a unique index's NOT NULL columns for the rows it cannot see. -#}
{% macro not_null_columns(columns) -%}
    do $not_null$
    begin
        {%- for column in columns %}
        if exists (
            select from pg_attribute
            where attrelid = to_regclass({{ dbt.string_literal(this.render()) }})
                and attname = {{ dbt.string_literal(column) }} and not attnotnull
        ) then
            alter table {{ this }} alter column {{ adapter.quote(column) }} set not null;
        end if;
        {%- endfor %}
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

{#- A level's components in their ranges (win_rate <= 1 and profit_factor >= 0 follow). -#}
{% macro level_component_ranges() -%}
    total_trades >= 1 and closed_trades <= total_trades
    and winning_trades + losing_trades <= closed_trades and fees >= 0 and gross_profit >= 0
    and gross_loss <= 0 and max_drawdown >= 0
{%- endmacro %}
