{#-
    Every raw row that breaks the source contract, with its reason (DESIGN.md, "Bad input").
    One row per quarantined row; the rules live in the base models (models/staging/base) and
    macros/quarantine.sql; this model only gathers their verdicts. It is derived, not final: a
    row held back because a related row had not landed yet leaves it once that row lands.

    A table, so the per-kind warning tests and the counts read a small table. Incremental
    (macros/quarantine.sql): a build recomputes only the keys whose raw rows landed since the
    previous build (a trade's position, a version's business key), so its cost grows with what
    landed, not with the history; a full refresh recomputes every row.
-#}

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ quarantine_prepare() }}",
    post_hook="{{ quarantine_advance_watermark() }}",
    indexes=[{'columns': ['source_table', 'record_key']}],
) }}

with

quarantined_trades as (

    {{ quarantine_rows(ref('base_trades'), 'positions', ['position_id']) }}

),

-- Where a quarantined imported trade came from. The importer writes a trade and its line in
-- one transaction, so they share loaded_at: the lines of the trade_id with the row's loaded_at.
-- Copies of one trade_id in one import cannot be told apart (trade_import_lines holds no
-- values), so they all name every line of that import with the trade_id. A trade that landed
-- once but whose line has another loaded_at (another writer) names all lines of its trade_id.
import_lines as (

    select
        file_name,
        line_number,
        trade_id,
        loaded_at
    from {{ source('raw', 'trade_import_lines') }}
    where trade_id in (select trade_id from quarantined_trades)

),

lines_per_load as (

    select
        trade_id,
        loaded_at,
        string_agg(
            format('%s line %s', file_name, line_number), ', ' order by file_name, line_number
        ) as import_location
    from import_lines
    group by trade_id, loaded_at

),

lines_per_trade as (

    select
        trade_id,
        string_agg(
            format('%s line %s', file_name, line_number), ', '
            order by loaded_at, file_name, line_number
        ) as import_location
    from import_lines
    group by trade_id

),

copies as (

    select
        trade_id,
        count(*) as copies
    from {{ source('raw', 'trades') }}
    where trade_id in (select trade_id from quarantined_trades)
    group by trade_id

),

located_trades as (

    select
        quarantined_trades.*,
        coalesce(
            lines_per_load.import_location,
            case when copies.copies = 1 then lines_per_trade.import_location end
        ) as import_location
    from quarantined_trades
    inner join copies
        on quarantined_trades.trade_id = copies.trade_id
    left join lines_per_load
        on
            quarantined_trades.trade_id = lines_per_load.trade_id
            and quarantined_trades.loaded_at = lines_per_load.loaded_at
    left join lines_per_trade
        on quarantined_trades.trade_id = lines_per_trade.trade_id

),

trades as (

    select
        'trades' as source_table,
        trade_id::text as record_key,
        quarantine_reason as reason,
        case
            when import_location is not null
                then format('%s: %s', import_location, quarantine_detail)
            else quarantine_detail
        end as reason_detail,
        record,
        loaded_at
    from located_trades

),

{% for entity, surrogate_key, dirty, key in [
    ('markets', 'market_key', 'markets', ['market_id']),
    ('positions', 'position_key', 'position_versions', ['position_id']),
    ('edges', 'edge_key', 'edges', ['market_id', 'model_id']),
] %}
{{ entity }} as (

    select
        '{{ entity }}' as source_table,
        {{ surrogate_key }}::text as record_key,
        quarantine_reason as reason,
        quarantine_detail as reason_detail,
        record,
        loaded_at
    from ({{ quarantine_rows(ref('base_' ~ entity), dirty, key) }}) as quarantined

),

{% endfor %}
import_rejects as (

    select
        'trade_import_rejects' as source_table,
        format('%s:%s', file_name, line_number) as record_key,
        'import_rejected' as reason,
        format('%s line %s: %s', file_name, line_number, reason) as reason_detail,
        to_jsonb(rejects) as record,
        loaded_at
    from {{ source('raw', 'trade_import_rejects') }} as rejects
    {%- if quarantine_is_partial() %}
    where {{ quarantine_landed_condition('rejects.loaded_at') }}
    {%- endif %}

),

unioned as (

    select * from trades
    union all
    select * from markets
    union all
    select * from positions
    union all
    select * from edges
    union all
    select * from import_rejects

)

select * from unioned
