{#- Invariants of P&L rows kept by the database on every write (a CHECK constraint), as the grain
    is by a unique index (macros/unique_index.sql): the build that would write a row breaking
    one fails, and no test need read millions of rows each run for them. The tests of
    marts.performance_tracking, which read the view over every level and trade, check the same
    where a run validates everything (tag whole_history, orchestration/defs/dbt/partitions.py). -#}

{#- A post-hook adding constraint `name` to the model's table once: PostgreSQL then checks the
    rows already there, and every write after. A CHECK lets a null expression pass: here a null
    breaks it. -#}
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

{% macro pnl_dimensions_present() -%}
    strategy_id is not null and model_id is not null and league is not null
    and market_type is not null
{%- endmacro %}

{#- A level's components in their ranges (win_rate <= 1 and profit_factor >= 0 follow). -#}
{% macro level_component_ranges() -%}
    {{ pnl_dimensions_present() }} and total_trades >= 1 and closed_trades <= total_trades
    and winning_trades + losing_trades <= closed_trades and fees >= 0 and gross_profit >= 0
    and gross_loss <= 0 and max_drawdown >= 0
{%- endmacro %}
