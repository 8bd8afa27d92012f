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
    {%- do return(build_watermark(this.identifier)) -%}
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

    -- Versions quarantined for a market, strategy or model that had not landed (or was not
    -- valid): judged again on every build, since what they wait for may have landed. Few.
    create temporary table {{ quarantine_dirty_table('position_versions') }} on commit drop as
    select distinct position_id from {{ source('raw', 'positions') }}
    where {{ quarantine_landed_condition('loaded_at') }}
    union
    select (record ->> 'position_id')::bigint from {{ this }}
    where source_table = 'positions'
        and reason in ('unknown_strategy', 'unknown_model', 'unknown_market');

    create temporary table {{ quarantine_dirty_table('positions') }} on commit drop as
    with landed as (
        select position_id from {{ source('raw', 'trades') }}
        where {{ quarantine_landed_condition('loaded_at') }}
        union
        select position_id from {{ quarantine_dirty_table('position_versions') }}
    )
    select position_id from landed
    union
    select copies.position_id
    from {{ source('raw', 'trades') }} as trades
    inner join {{ source('raw', 'trades') }} as copies on copies.trade_id = trades.trade_id
    where trades.position_id in (select position_id from landed);

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
