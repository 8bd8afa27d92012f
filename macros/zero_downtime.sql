{#- Zero-downtime rebuilds (DESIGN.md, "Marts"). dbt rebuilds a table or view beside the old one
    and swaps them in one transaction, so a reader sees the old relation or the new one, whole.
    After the swap's commit it drops the old one with CASCADE, which would also drop every view
    reading it (views bind to relations, not names): marts.performance_tracking after a
    --full-refresh of a level, views over staging after each hourly run. So before the old
    relation goes, each view reading it is re-pointed at its replacement (CREATE OR REPLACE
    VIEW keeps the view, its grants and the views over it). A view whose columns no longer fit
    is left to the cascade, and dbt rebuilds it later in the run if it is selected. dbt's
    relation cache has already dropped the views with the old relation; those still there are
    put back. -#}

{#- Every view reading `relation`, directly or through other views: (schema, name). -#}
{% macro dependent_views_sql(relation) -%}
    with recursive dependents (oid) as (
        select distinct pg_rewrite.ev_class
        from pg_depend
        inner join pg_rewrite on pg_rewrite.oid = pg_depend.objid
        where pg_depend.classid = 'pg_rewrite'::regclass
            and pg_depend.refobjid = to_regclass('{{ relation.render() }}')
            and pg_rewrite.ev_class <> pg_depend.refobjid
        union
        select pg_rewrite.ev_class
        from dependents
        inner join pg_depend on pg_depend.refobjid = dependents.oid
        inner join pg_rewrite on pg_rewrite.oid = pg_depend.objid
        where pg_depend.classid = 'pg_rewrite'::regclass
            and pg_rewrite.ev_class <> pg_depend.refobjid
    )
    select namespaces.nspname, views.relname
    from dependents
    inner join pg_class as views on views.oid = dependents.oid
    inner join pg_namespace as namespaces on namespaces.oid = views.relnamespace
{%- endmacro %}

{% macro exists_sql(schema, name) -%}
    select to_regclass(format('%I.%I', '{{ schema }}', '{{ name }}')) is not null
{%- endmacro %}

{#- Re-point the views reading `backup` (dbt's <name>__dbt_backup, after the swap's commit) at
    <name>, then drop it; one re-pointing at a time (models built in parallel re-point the same
    views).

    All of it at once, or none of it. A reader locks a view before the views inside it (the
    rewriter expands outer to inner), so the views over `backup` are locked in that order too:
    every view over it, outermost first (ALTER VIEW ... OWNER TO its own owner locks a view and
    nothing else), then the direct ones are re-pointed. A reader of one of them then waits at
    the first view it needs, holding none. A lock not granted in time (a reader in flight, or
    one whose query names two views) gives back every lock of the attempt (its subtransaction
    rolls back) and the attempt starts again, so a reader rarely waits on it as long as
    deadlock_timeout (1 s), where a deadlock would be detected and the reader be its victim. Each
    lock's wait grows from 100 ms to 800 ms, so readers whose queries take longer leave a gap.
    It never waits in line: after an hour of attempts the model fails, and says why. -#}
{% macro repoint_dependent_views_and_drop(backup) -%}
{%- set replacement = backup.identifier[:-('__dbt_backup' | length)] -%}
do $repoint$
declare
    dependent record;
    attempts integer := 0;
    patience text := current_setting('lock_timeout');
begin
    perform pg_advisory_xact_lock(hashtext('precog: re-point views'));
    loop
        begin
            if attempts >= 4500 then
                raise exception 'readers kept the views over % busy for an hour: they still'
                    ' read its previous build (%, kept)',
                    '{{ replacement }}', '{{ backup.identifier }}';
            end if;
            perform set_config('lock_timeout', least(100 * (attempts + 1), 800) || 'ms', true);
            for dependent in
                with recursive edges (referenced, view_oid) as (
                    select distinct pg_depend.refobjid, pg_rewrite.ev_class
                    from pg_depend
                    inner join pg_rewrite on pg_rewrite.oid = pg_depend.objid
                    where pg_depend.classid = 'pg_rewrite'::regclass
                        and pg_depend.refclassid = 'pg_class'::regclass
                        and pg_rewrite.ev_class <> pg_depend.refobjid
                ),
                dependents (view_oid, depth) as (
                    select view_oid, 1 from edges
                    where referenced = to_regclass('{{ backup.render() }}')
                    union all
                    select edges.view_oid, dependents.depth + 1
                    from dependents
                    inner join edges on edges.referenced = dependents.view_oid
                )
                select namespaces.nspname as schema_name, views.relname as view_name,
                    pg_get_userbyid(views.relowner) as owner_name, max(depth) as depth
                from dependents
                inner join pg_class as views on views.oid = dependents.view_oid
                inner join pg_namespace as namespaces on namespaces.oid = views.relnamespace
                -- plain views this role may alter (others are left to their owners, unlocked)
                where views.relkind = 'v' and pg_has_role(views.relowner, 'USAGE')
                group by 1, 2, 3
                order by depth desc, 1, 2
            loop
                execute format(
                    'alter view %I.%I owner to %I',
                    dependent.schema_name, dependent.view_name, dependent.owner_name
                );
            end loop;
            for dependent in
                select distinct views.oid, namespaces.nspname as schema_name,
                    views.relname as view_name
                from pg_depend
                inner join pg_rewrite on pg_rewrite.oid = pg_depend.objid
                inner join pg_class as views on views.oid = pg_rewrite.ev_class
                inner join pg_namespace as namespaces on namespaces.oid = views.relnamespace
                where pg_depend.classid = 'pg_rewrite'::regclass
                    and pg_depend.refobjid = to_regclass('{{ backup.render() }}')
                    and views.oid <> pg_depend.refobjid
            loop
                begin
                    execute format(
                        'create or replace view %I.%I as %s',
                        dependent.schema_name,
                        dependent.view_name,
                        replace(pg_get_viewdef(dependent.oid), '{{ backup.identifier }}', '{{ replacement }}')
                    );
                exception
                    when lock_not_available then
                        raise;
                    when others then
                        raise notice 'view %.% left to the cascade: %',
                            dependent.schema_name, dependent.view_name, sqlerrm;
                end;
            end loop;
            execute $drop$ {{ get_drop_sql(backup) }} $drop$;
            exit;
        exception when lock_not_available then
            attempts := attempts + 1;
            perform pg_sleep(0.05);
        end;
    end loop;
    perform set_config('lock_timeout', patience, true);
end
$repoint$
{%- endmacro %}
