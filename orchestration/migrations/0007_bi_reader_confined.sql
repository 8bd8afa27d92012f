-- bi_reader reaches this warehouse and nothing else: privileges, not a setting (a read-only
-- default is undone by `begin read write`). PUBLIC loses CONNECT here, so only the roles granted
-- it (bi_reader, 0005) and superusers connect. Dagster's database, and on the embedded server
-- the maintenance databases, are closed to PUBLIC too (orchestration/database.py, prepare).
do $$
begin
    execute format('revoke connect, temporary on database %I from public', current_database());
    execute format('grant connect on database %I to bi_reader', current_database());
end
$$;
