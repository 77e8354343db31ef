-- TimescaleDB's parallel ChunkAppend can silently return zero rows when a chunk's filter
-- references an InitPlan parameter (upstream issue timescale/timescaledb#10503, seen here
-- on 2.19.3: customer_360's check summed growth.user_activity_daily up to
-- `(SELECT max(as_of) ...)` and got 0 in a parallel plan, the right total without it).
-- Every new session on this database (BI tools included) runs without parallel ChunkAppend;
-- parallel plans over plain Append remain. The pipeline's own sessions also set it
-- (resources/warehouse.py) when they connect. Servers
-- without TimescaleDB loaded have no such setting and are left alone.
DO $$
BEGIN
    IF current_setting('timescaledb.enable_parallel_chunk_append', true) IS NOT NULL THEN
        EXECUTE 'ALTER DATABASE ' || quote_ident(current_database())
            || ' SET timescaledb.enable_parallel_chunk_append = off';
        -- and this session, which may have loaded TimescaleDB just now (CREATE EXTENSION
        -- resets the setting the pipeline's connect hook made)
        PERFORM set_config('timescaledb.enable_parallel_chunk_append', 'off', false);
    END IF;
END
$$;
