-- The BI contract's reader (DESIGN.md, "Marts"): role bi_reader logs in, reads schema `marts`
-- and nothing else, and writes nothing. dbt grants it SELECT on each mart as the mart is built
-- (`grants` in dbt_project.yml), before the rebuilt relation becomes visible; the one table of
-- `marts` that dbt does not build is granted here. Its password, if the server asks for one, is
-- set by the administrator: `alter role bi_reader password '...'`.

-- Roles belong to the server, not to one database: another database's migration may create it
-- at the same moment.
do $$
begin
    if not exists (select from pg_roles where rolname = 'bi_reader') then
        create role bi_reader login;
    end if;
exception when duplicate_object or unique_violation then
    null;
end
$$;

alter role bi_reader set default_transaction_read_only = on;
-- Dashboard queries take milliseconds; compiling them (JIT, on by default where the server has
-- it) would take a hundred more.
alter role bi_reader set jit = off;

-- Nothing by default: PUBLIC may use schema public and create temporary tables in this database.
revoke all on schema public from public;
do $$
begin
    execute format('revoke temporary on database %I from public', current_database());
    execute format('grant connect on database %I to bi_reader', current_database());
end
$$;

grant usage on schema marts to bi_reader;
grant select on marts.ab_test_results to bi_reader;
