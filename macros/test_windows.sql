{#- Tests on what landed (dbt_project.yml sets `where: __landing_window__` for the tests of
    models/staging, int_trade_pnl's yml for its key tests; this override of dbt's
    get_where_subquery gives it a meaning).

    A run tests the rows of every key that the pipeline has not validated yet and, in a
    partitioned run (vars loaded_from / loaded_to), of every key that landed in its window; a
    full refresh, a first build or var validate_everything tests everything (RunScope in
    orchestration/defs/dbt/partitions.py decides the same for the Great Expectations suites).
    "Not validated yet": rows that landed from the change log capture
    before the last one int_trade_pnl has processed (macros/incremental.sql). A build skips
    int_trade_pnl when an error-level staging test fails, so its watermark stays and the next run
    tests those rows again; one capture further back covers rows that landed during the build
    that processed them, after its tests had run. A successful `precog run` also records where
    it began (precog_meta.last_validation): its tests saw every row landed by then, so after a
    first build the next run tests what landed since, not the whole history again. The later
    of the two bounds counts; no change log yet (a first build) or neither known: everything.

    Each windowed model is tested on the whole of the keys its verdicts depend on (a position's
    trades and the copies of their trade_ids, every version of a business key), each key looked
    up (LATERAL) so that it pushes down through the staging views' windows to a raw index. Models
    not listed here (reference tables, the quarantine) are tested whole; so are the other side of
    a relationships test and tests with a `where` of their own. -#}

{#- Windowed model (staging, and int_trade_pnl's key tests): (raw table whose landed rows name
    the keys, key columns). -#}
{% macro landing_window_keys() -%}
    {%- do return({
        'base_trades': ('trades', ['position_id']),
        'base_positions': ('positions', ['position_id']),
        'base_markets': ('markets', ['market_id']),
        'base_edges': ('edges', ['market_id', 'model_id']),
        'stg_trades': ('trades', ['position_id']),
        'stg_position_versions': ('positions', ['position_id']),
        'stg_positions': ('positions', ['position_id']),
        'stg_market_versions': ('markets', ['market_id']),
        'stg_markets': ('markets', ['market_id']),
        'stg_edge_versions': ('edges', ['market_id', 'model_id']),
        'stg_edges': ('edges', ['market_id', 'model_id']),
        'stg_model_predictions': ('model_predictions', ['prediction_id']),
        'stg_ab_test_assignments': ('ab_test_assignments', ['assignment_id']),
        'int_trade_pnl': ('trades', ['position_id']),
    }) -%}
{%- endmacro %}

{#- The relation of model `name` of this project, or none when it is not built. -#}
{% macro built_model_relation(name) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == name
            and node.package_name == project_name -%}
            {%- do return(adapter.get_relation(node.database, node.schema, node.alias)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}

{#- The time from which rows may not have been validated yet (see above), or none. One query:
    every windowed test asks it as it compiles (about 80 an hour). It takes the complete_before
    of the latest capture before the last processed, one probe of captured_at's index (one
    statement writes a capture's rows, with one complete_before): equal to the largest of those
    captures' when they run one after another, never above it. (Their max read the log
    backwards on complete_before's index, the whole log when no capture came before: right
    after a first build, 15.6 s at 10M for each test.) -#}
{% macro unvalidated_since() -%}
    {%- set changes = built_model_relation('int_position_changes') -%}
    {%- if changes is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set change_log -%}
        (select complete_before from {{ changes }}
        where captured_at < ({{ build_watermark_query('int_trade_pnl') }})
        order by captured_at desc limit 1)
    {%- endset -%}
    {%- do return(scalar_at_run_time(
        "select greatest(" ~ change_log ~ ", (select complete_before from "
        ~ "precog_meta.last_validation))"
    )) -%}
{%- endmacro %}

{% macro landing_window_subquery(relation) -%}
    {%- set windows = landing_window_keys() -%}
    {%- if not execute or flags.FULL_REFRESH or var('validate_everything', false)
        or relation.identifier not in windows -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set since = unvalidated_since() -%}
    {%- if since is none -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set table, key = windows[relation.identifier] -%}
    {%- set landed -%}
        (loaded_at >= '{{ since }}'::timestamptz
        {%- if var('loaded_from', none) is not none %}
            or ({{ landing_window_condition('loaded_at') }})
        {%- endif %})
    {%- endset -%}
    {%- set raw = api.Relation.create(database=relation.database, schema='raw', identifier=table) -%}
    {%- set keys -%}
        {%- if table == 'trades' -%}
        {#- positions with trades or versions landed, closed over shared trade_ids -#}
        with landed as (
            select position_id from {{ raw }} where {{ landed }}
            union
            select position_id
            from {{ api.Relation.create(database=relation.database, schema='raw',
                identifier='positions') }}
            where {{ landed }}
        )
        select position_id from landed
        union
        select copies.position_id
        from {{ raw }} as trades
        inner join {{ raw }} as copies on copies.trade_id = trades.trade_id
        where trades.position_id in (select position_id from landed)
        {%- else -%}
        select distinct {{ key | join(', ') }} from {{ raw }} where {{ landed }}
        {%- endif -%}
    {%- endset -%}
    {%- set filtered -%}
        (select tested.* from ({{ keys }}) as landed_keys
        cross join lateral (
            select * from {{ relation }} as tested_rows
            where {% for column in key %}tested_rows.{{ column }} = landed_keys.{{ column }}
                {%- if not loop.last %} and {% endif %}{% endfor %}
            offset 0
        ) as tested) as landing_window
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}
