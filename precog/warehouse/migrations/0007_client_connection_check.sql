-- A client killed mid-statement (a dbt whose `precog run` was killed): the server notices within
-- 2 s and cancels its statement instead of running it to the end (PostgreSQL 14+). Set on the
-- warehouse where the project's role may; otherwise left to the server's administrator.
do $$
begin
    if current_setting('server_version_num')::int >= 140000 then
        execute format(
            'alter database %I set client_connection_check_interval = %L',
            current_database(), '2s'
        );
    end if;
exception when insufficient_privilege then
    raise notice 'client_connection_check_interval not set: % does not own %',
        current_user, current_database();
end
$$;
