{#-
    The SCD Type 2 rule of the source contract, written once for markets, positions and edges:
    exactly one version per business key carries row_current_ind. Of several current versions
    of one key, the one with the highest row_version is kept (ties: latest row_start_ts, then
    highest surrogate key); the others get quarantine_reason 'multiple_current_versions'.

    Selects every column of `relation` (a CTE name) plus quarantine_reason and
    quarantine_detail. `key_label` is a SQL expression naming the business key in the detail,
    e.g. "format('market %s', market_id)".

    The windows are partitioned by the business key, so a filter on it pushes down.
-#}
{% macro scd_current_version_rule(relation, business_key, surrogate_key, key_label) -%}
    {%- set key = business_key | join(', ') -%}
    select
        ranked.*,
        case
            when row_current_ind and current_versions > 1 and current_rank > 1
                then 'multiple_current_versions'
        end as quarantine_reason,
        case
            when row_current_ind and current_versions > 1 and current_rank > 1 then format(
                '%s has %s current versions; version %s (%s %s) is kept, this one is version %s',
                {{ key_label }}, current_versions, kept_version, '{{ surrogate_key }}', kept_key,
                row_version
            )
        end as quarantine_detail
    from (
        select
            {{ relation }}.*,
            count(*) filter (where row_current_ind) over current_first as current_versions,
            row_number() over current_first as current_rank,
            first_value(row_version) over current_first as kept_version,
            first_value({{ surrogate_key }}) over current_first as kept_key
        from {{ relation }}
        window current_first as (
            partition by {{ key }}
            order by row_current_ind desc, row_version desc, row_start_ts desc,
                {{ surrogate_key }} desc
            rows between unbounded preceding and unbounded following
        )
    ) as ranked
{%- endmacro %}


{#- The incremental quarantine (models/staging/quarantine.sql). Its verdicts on a row depend
    only on the rows of the same key: a trade's on its position's trades (the sequence rules)
    and on the copies of its trade_id (duplicate_trade_id), a version's on the versions of its
    business key, a reject on itself. So a build recomputes the keys whose raw rows landed since
    the previous build, deleting their rows here and inserting their verdicts again (a row that
    is valid now, a closing trade whose entry landed, is not inserted back).

    "Since the previous build" is a watermark of its own in precog_meta.build_watermarks (model
    `quarantine`): the time before which every row that will ever land was visible when that
    build started (complete_before, macros/incremental.sql), so rows of a long load that commits
    late are not missed. A partition (or backfill) window also recomputes what landed in it. -#}

{#- The watermark of the previous build, or none. -#}
{% macro quarantine_since() -%}
    {%- do return(scalar_at_run_time(
        "select captured_through from precog_meta.build_watermarks where model = '"
        ~ this.identifier ~ "'"
    )) -%}
{%- endmacro %}

{#- Whether this build recomputes some keys only: an incremental build after one that left a
    watermark (a table built before this model kept one is rebuilt whole, once). -#}
{% macro quarantine_is_partial() -%}
    {%- do return(is_incremental() and quarantine_since() is not none) -%}
{%- endmacro %}

{#- The rows to recompute, as a condition on their `loaded_at` column. -#}
{% macro quarantine_landed_condition(loaded_at) -%}
    {%- set since = quarantine_since() -%}
    ({{ loaded_at }} >= '{{ since or "-infinity" }}'::timestamptz
    {%- if var('loaded_from', none) is not none %}
        or ({{ landing_window_condition(loaded_at) }})
    {%- endif -%})
{%- endmacro %}

{#- Names of this build's temporary tables: the dirty keys of `entity`, the watermark. -#}
{% macro quarantine_dirty_table(entity) -%}
    {{ this.identifier }}__dirty_{{ entity }}
{%- endmacro %}

{% macro quarantine_watermark_table() -%}
    {{ this.identifier }}__landed_before
{%- endmacro %}

{#- Pre-hook: take the watermark first (every row before it is visible to what follows), then
    on an incremental build find the dirty keys and delete their rows. The trades' positions are
    closed over shared trade_ids, so all copies of a trade_id are recomputed together. -#}
{% macro quarantine_prepare() -%}
    create temporary table {{ quarantine_watermark_table() }} on commit drop as
    select {{ complete_before() }} as complete_before;
    {%- if is_incremental() and not quarantine_is_partial() %}

    delete from {{ this }};
    {%- elif is_incremental() %}

    create temporary table {{ quarantine_dirty_table('positions') }} on commit drop as
    with landed as (
        select position_id from {{ source('raw', 'trades') }}
        where {{ quarantine_landed_condition('loaded_at') }}
        union
        select position_id from {{ source('raw', 'positions') }}
        where {{ quarantine_landed_condition('loaded_at') }}
    )
    select position_id from landed
    union
    select copies.position_id
    from {{ source('raw', 'trades') }} as trades
    inner join {{ source('raw', 'trades') }} as copies on copies.trade_id = trades.trade_id
    where trades.position_id in (select position_id from landed);

    create temporary table {{ quarantine_dirty_table('position_versions') }} on commit drop as
    select distinct position_id from {{ source('raw', 'positions') }}
    where {{ quarantine_landed_condition('loaded_at') }};

    create temporary table {{ quarantine_dirty_table('markets') }} on commit drop as
    select distinct market_id from {{ source('raw', 'markets') }}
    where {{ quarantine_landed_condition('loaded_at') }};

    create temporary table {{ quarantine_dirty_table('edges') }} on commit drop as
    select distinct market_id, model_id from {{ source('raw', 'edges') }}
    where {{ quarantine_landed_condition('loaded_at') }};

    analyze {{ quarantine_dirty_table('positions') }};
    analyze {{ quarantine_dirty_table('position_versions') }};
    analyze {{ quarantine_dirty_table('markets') }};
    analyze {{ quarantine_dirty_table('edges') }};

    delete from {{ this }} as quarantined
    where
        (source_table = 'trades' and record ->> 'position_id' in (
            select position_id::text from {{ quarantine_dirty_table('positions') }}
        ))
        or (source_table = 'positions' and record ->> 'position_id' in (
            select position_id::text from {{ quarantine_dirty_table('position_versions') }}
        ))
        or (source_table = 'markets' and record ->> 'market_id' in (
            select market_id::text from {{ quarantine_dirty_table('markets') }}
        ))
        or (source_table = 'edges' and (record ->> 'market_id', record ->> 'model_id') in (
            select market_id::text, model_id::text from {{ quarantine_dirty_table('edges') }}
        ))
        or (source_table = 'trade_import_rejects'
            and {{ quarantine_landed_condition('quarantined.loaded_at') }})
    {%- endif %}
{%- endmacro %}

{#- The rows of base model `relation` whose key is among the dirty `entity` keys, each key
    looked up (LATERAL, so the key pushes down through the base model's windows, which are
    partitioned by it, to a raw index), or all of them on a full build. -#}
{% macro quarantine_rows(relation, entity, key) -%}
    {%- if quarantine_is_partial() -%}
    select {{ entity }}_rows.*
    from {{ quarantine_dirty_table(entity) }} as dirty
    cross join lateral (
        select * from {{ relation }} as base
        where {% for column in key %}base.{{ column }} = dirty.{{ column }}
            {%- if not loop.last %} and {% endif %}{% endfor %}
        offset 0
    ) as {{ entity }}_rows
    where {{ entity }}_rows.quarantine_reason is not null
    {%- else -%}
    select * from {{ relation }} where quarantine_reason is not null
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the next build recomputes what landed from this build's watermark on. -#}
{% macro quarantine_advance_watermark() -%}
    insert into precog_meta.build_watermarks (model, captured_through)
    select '{{ this.identifier }}', complete_before from {{ quarantine_watermark_table() }}
    on conflict (model) do update set captured_through = excluded.captured_through
{%- endmacro %}


{#- Tests of staging on what landed (dbt_project.yml sets `where: __landing_window__` for the
    tests of models/staging; this override of dbt's get_where_subquery gives it a meaning).

    A partitioned run (vars loaded_from / loaded_to) tests the rows of every key that landed in
    its window or that the pipeline has not validated yet; a run without window vars, or a full
    refresh, tests everything. "Not validated yet": rows that landed from the change log capture
    before the last one int_trade_pnl has processed (macros/incremental.sql). A build skips
    int_trade_pnl when an error-level staging test fails, so its watermark stays and the next run
    tests those rows again; one capture further back covers rows that landed during the build
    that processed them, after its tests had run. No change log or watermark yet: everything.

    Each windowed model is tested on the whole of the keys its verdicts depend on (a position's
    trades and the copies of their trade_ids, every version of a business key), each key looked
    up (LATERAL) so that it pushes down through the staging views' windows to a raw index. Models
    not listed here (reference tables, the quarantine) are tested whole; so are the other side of
    a relationships test and tests with a `where` of their own. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == '__landing_window__' -%}
        {%- do return(landing_window_subquery(relation)) -%}
    {%- endif -%}
    {%- do return(dbt.default__get_where_subquery(relation)) -%}
{%- endmacro %}

{#- Staging model: (raw table whose landed rows name the keys, key columns). -#}
{% macro landing_window_keys() -%}
    {%- do return({
        'stg_trades': ('trades', ['position_id']),
        'stg_position_versions': ('positions', ['position_id']),
        'stg_positions': ('positions', ['position_id']),
        'stg_market_versions': ('markets', ['market_id']),
        'stg_markets': ('markets', ['market_id']),
        'stg_edge_versions': ('edges', ['market_id', 'model_id']),
        'stg_edges': ('edges', ['market_id', 'model_id']),
        'stg_model_predictions': ('model_predictions', ['prediction_id']),
        'stg_ab_test_assignments': ('ab_test_assignments', ['assignment_id']),
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

{#- The time from which rows may not have been validated yet (see above), or none. -#}
{% macro unvalidated_since() -%}
    {%- set changes = built_model_relation('int_position_changes') -%}
    {%- if changes is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return(scalar_at_run_time(
        "select max(complete_before) from " ~ changes ~ " where captured_at < ("
        ~ "select captured_through from precog_meta.build_watermarks"
        ~ " where model = 'int_trade_pnl')"
    )) -%}
{%- endmacro %}

{% macro landing_window_subquery(relation) -%}
    {%- set windows = landing_window_keys() -%}
    {%- if not execute or var('loaded_from', none) is none or flags.FULL_REFRESH
        or relation.identifier not in windows -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set since = unvalidated_since() -%}
    {%- if since is none -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set table, key = windows[relation.identifier] -%}
    {%- set landed -%}
        (loaded_at >= '{{ since }}'::timestamptz or ({{ landing_window_condition('loaded_at') }}))
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

{#- dbt's relationships test, whose child side may be a landing window (above): then each child
    value's parent is looked up (LATERAL, LIMIT 1: the value pushes down through the parent
    view's windows to a raw index) instead of joining the whole parent view, which the planner,
    expecting one child row, would recompute for every child row. Otherwise dbt's own. -#}
{% macro default__test_relationships(model, column_name, to, field) -%}
    {%- if not (model | string).endswith(' as landing_window') -%}
        {{- dbt.default__test_relationships(model, column_name, to, field) -}}
    {%- else -%}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
)

select child.from_field
from child
left join lateral (
    select true as found from {{ to }} as parent
    where parent.{{ field }} = child.from_field
    limit 1
) as parent on true
where parent.found is null
    {%- endif -%}
{%- endmacro %}
