{#- Incremental models recompute exactly what changed (DESIGN.md, "Incremental runs").

    intermediate.int_position_changes is an append-only log: each run records the positions
    whose raw rows (trades, position versions, edge versions of their market and model) landed
    since the previous run, stamped with its transaction's start on the warehouse's clock.
    Every model downstream keeps its own watermark in precog_meta.build_watermarks, so it
    catches up on all the log entries it has not processed, whichever dbt invocation (hourly or
    daily) runs it, and a failed build leaves
    them for the next one. A position's P&L depends only on its own rows, so recomputing its
    trades, and every bucket they fall in, covers everything a late row can change. -#}

{#- The positions this model has not processed yet. The watermark is read first and written
    into the query as a literal: behind a subquery the planner would guess a third of the log
    and scan the raw tables whole. Bounded above as well (since_watermark). -#}
{% macro unprocessed_changes() -%}
    {%- set watermark = build_watermark(this.identifier) -%}
    (
        select distinct position_id
        from {{ ref('int_position_changes') }}
        where {{ since_watermark('captured_at', "'" ~ (watermark or "-infinity") ~ "'::timestamptz") }}
        {%- if var('loaded_from', none) is not none %}
            -- a partition (or backfill) window also recomputes what landed in it
            or ({{ landing_window_condition('loaded_at') }})
        {%- endif %}
    )
{%- endmacro %}

{#- `column` past `watermark`, for an index on `column` to find. A range open on one side is
    estimated, wherever its column has no statistics (a table just built, before it is
    analyzed) or its bound is a subquery, at a third of the table: at 10M trades a scan of the
    3M-row change log (0.2 s) for each incremental model every hour, and of raw.trades for each
    live read. Closed, it is estimated at 0.5%, and looked up. -#}
{% macro since_watermark(column, watermark, inclusive=false) -%}
    {{ column }} {{ '>=' if inclusive else '>' }} {{ watermark }} and {{ column }} < 'infinity'
{%- endmacro %}

{#- The watermark `model` recorded in precog_meta.build_watermarks (the change log capture it
    has processed through; for the quarantine, the complete_before of its previous build), read
    when the model runs (none at parse time, or before its first build). By name, not source(): every model and test reading
    it would otherwise depend on the source; the live views, which read it when queried, use
    source('precog_meta', 'build_watermarks'). -#}
{% macro build_watermark(model) -%}
    {%- do return(scalar_at_run_time(build_watermark_query(model))) -%}
{%- endmacro %}

{% macro build_watermark_query(model) -%}
    {{- return("select captured_through from precog_meta.build_watermarks where model = '"
        ~ model ~ "'") -}}
{%- endmacro %}

{#- The single value a query returns, read when the model runs (none at parse time). -#}
{% macro scalar_at_run_time(sql) -%}
    {%- if execute -%}
        {%- set rows = run_query(sql).rows -%}
        {{- return(rows[0][0] if rows | length > 0 else none) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{#- Post-hook: the model has processed the log as far as its parents had, in the transaction
    that rebuilt it. Never beyond a parent's own watermark: a model of the daily job (say
    int_strategy_pnl_daily) can run while the hourly job left its parent behind (a failed test
    skips int_trade_pnl); it then rebuilt those buckets from stale rows, and must again once the
    parent catches up. -#}
{% macro advance_watermark() -%}
    {%- set parents = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id in graph.nodes -%}
        {%- set parent = graph.nodes[node_id] -%}
        {%- set hooks = parent.config.get('post-hook') or parent.config.get('post_hook') or [] -%}
        {%- if '{{ advance_watermark() }}' in hooks | map(attribute='sql') | join -%}
            {%- do parents.append(parent.alias or parent.name) -%}
        {%- endif -%}
    {%- endfor -%}
    insert into precog_meta.build_watermarks (model, captured_through)
    select
        '{{ this.identifier }}',
        {%- if parents %}
        least(max(captured_at), (
            select min(captured_through) from precog_meta.build_watermarks
            where model in ({% for parent in parents %}'{{ parent }}'{{ ', ' if not loop.last }}{% endfor %})
        ))
        {%- else %}
        max(captured_at)
        {%- endif %}
    from {{ ref('int_position_changes') }}
    having max(captured_at) is not null
    on conflict (model) do update set captured_through = excluded.captured_through
{%- endmacro %}

{#- Name of the temporary table holding a rollup model's dirty buckets for this run. -#}
{% macro dirty_buckets_table() -%}
    {{ this.identifier }}__dirty_buckets
{%- endmacro %}

{#- Pre-hook of a rollup level (or of a model composed like one, over `dimensions`): find the
    buckets the unprocessed changes touch (every raw trade of a changed position, valid or not,
    so buckets a trade left are included), keep them for the model's query, and delete them: the
    query inserts them again, whole. Computed once into a temporary table so the delete and the
    insert agree even while new rows land. -#}
{% macro replace_dirty_buckets(grain, dimensions=rollup_dimensions()) -%}
    {%- if is_incremental() -%}
    create temporary table {{ dirty_buckets_table() }} on commit drop as
    {{ touched_buckets(unprocessed_changes(), grain, dimensions) }};

    -- without statistics the planner would scan the whole child level instead of its index
    analyze {{ dirty_buckets_table() }};

    delete from {{ this }} as target
    using {{ dirty_buckets_table() }} as dirty
    where {{ bucket_matches('target.period_start', 'dirty.bucket', grain) }}
        and {{ same_dimensions('target', 'dirty', dimensions) }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The buckets of `grain` and `dimensions` the positions in `changes` (a relation of
    position_id) touch: those of every raw trade of theirs, valid or not, so buckets a trade
    left are included, under every version of the position and of its market. `executed_from`
    and `executed_to` (SQL expressions) keep the trades executed in [from, to); `lookup` looks
    each position up (lookup_join: few positions, which the planner cannot count). -#}
{% macro touched_buckets(changes, grain, dimensions=rollup_dimensions(), executed_from=none,
    executed_to=none, lookup=false) -%}
    {%- set source_of = {'strategy_id': 'positions', 'model_id': 'positions',
        'league': 'markets', 'market_type': 'markets'} -%}
    select distinct
        {{ bucket_start(grain, 'trades.execution_timestamp') }} as bucket
        {%- for dimension in dimensions.split(', ') %},
        {{ source_of[dimension] }}.{{ dimension }}
        {%- endfor %}
    from {{ changes }} as changes
    {{ lookup_join(lookup, 'inner', source('raw', 'trades'), 'trades',
        'trades.position_id = changes.position_id' ~ (
            ' and trades.execution_timestamp >= ' ~ executed_from
            ~ ' and trades.execution_timestamp < ' ~ executed_to
            if executed_from is not none else '')) }}
    {{ lookup_join(lookup, 'inner', source('raw', 'positions'), 'positions',
        'positions.position_id = changes.position_id') }}
    {{ lookup_join(lookup, 'inner', source('raw', 'markets'), 'markets',
        'markets.market_id = positions.market_id') }}
{%- endmacro %}

{#- `left` and `right` (aliases) have the same `dimensions` (a list as rollup_dimensions()). -#}
{% macro same_dimensions(left, right, dimensions=rollup_dimensions()) -%}
    ({{ left }}.{{ dimensions.split(', ') | join(', ' ~ left ~ '.') }})
        = ({{ right }}.{{ dimensions.split(', ') | join(', ' ~ right ~ '.') }})
{%- endmacro %}

{#- all_time has one bucket per dimensions, with a null start. -#}
{% macro bucket_matches(period_start, bucket, grain) -%}
    {%- if grain == 'all_time' -%} true {%- else -%} {{ period_start }} = {{ bucket }} {%- endif -%}
{%- endmacro %}

{#- The bucket starting at `bucket` contains the instant `ts`. -#}
{% macro bucket_contains(bucket, ts, grain) -%}
    {%- if grain == 'all_time' -%}
        true
    {%- else -%}
        {{ ts }} >= {{ bucket }} and {{ ts }} < {{ bucket_end(grain, bucket) }}
    {%- endif -%}
{%- endmacro %}

{#- Which raw rows int_position_changes captures, as a condition on their `loaded_at` column:
    on a first build everything; else what may have landed since the last capture, and also
    what landed in the partition window if one is given (a backfill recaptures its range).
    Given the `previous` capture a full refresh keeps (previous_capture), what landed since it. -#}
{% macro landed_condition(loaded_at, previous=none) -%}
    {%- if previous is not none -%}
        {{ loaded_at }} >= {{ previous.complete_before }}
    {%- elif is_incremental() -%}
        {%- set since = scalar_at_run_time("select max(complete_before) from " ~ this) -%}
        ({{ loaded_at }} >= '{{ since or "-infinity" }}'::timestamptz
        {%- if var('loaded_from', none) is not none %}
            or ({{ landing_window_condition(loaded_at) }})
        {%- endif -%})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The last capture of the change log a full refresh replaces, as {complete_before: an SQL
    literal}: every raw row landed before it is in a capture of that log, so a position with
    nothing landed since keeps its own last capture there
    (models/intermediate/int_position_changes.sql). None on an increment, on a first build, and
    where raw was replaced or the zone changed since the log was built (full_refresh_owed: its
    captures say nothing of the new raw). -#}
{% macro previous_capture() -%}
    {%- if not execute or is_incremental() or load_relation(this) is none
        or full_refresh_owed() is not none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set rows = run_query(
        "select quote_literal(complete_before) || '::timestamptz' from " ~ this
        ~ " order by captured_at desc, complete_before desc limit 1"
    ).rows -%}
    {%- if rows | length == 0 -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return({'complete_before': rows[0][0]}) -%}
{%- endmacro %}

{#- The partition window given as vars loaded_from / loaded_to: [from, to). -#}
{% macro landing_window_condition(loaded_at) -%}
    {{ loaded_at }} >= '{{ var('loaded_from') }}'::timestamptz
    and {{ loaded_at }} < '{{ var('loaded_to', 'infinity') }}'::timestamptz
{%- endmacro %}

{#- The time before which every row that will ever land is already visible to this statement.
    A loader stamps loaded_at with its transaction's start, so a row still to commit belongs to
    a transaction running now, and its loaded_at is at least that transaction's start. Only
    sessions of this database can load it: another database's long transaction must not hold the
    capture back (seen in CI, two test workers on one server). (The role running dbt must see
    other sessions' xact_start: a superuser or pg_read_all_stats.) -#}
{% macro complete_before() -%}
    coalesce(
        (
            select min(xact_start) from pg_stat_activity
            where backend_type = 'client backend' and pid <> pg_backend_pid()
                and datname = current_database()
        ),
        statement_timestamp()
    )
{%- endmacro %}
