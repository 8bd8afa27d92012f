-- No JIT compilation in the warehouse. The live views inline the staging views and plan at a
-- cost above PostgreSQL's jit_above_cost even on a small desk: on a server built with LLVM a
-- count over live_current_positions at 3k trades took 3.0 s, 3.5 s of it compiling, against
-- 20 ms without. The marts are read in milliseconds; the builds do not need it either.
do $$
begin
    execute format('alter database %I set jit = off', current_database());
exception when insufficient_privilege then
    raise notice 'jit not turned off: % does not own %', current_user, current_database();
end
$$;
