-- Whether :relation (schema.table) is a hypertable; only run when TimescaleDB is installed.
SELECT EXISTS (
    SELECT 1
    FROM timescaledb_information.hypertables
    WHERE hypertable_schema || '.' || hypertable_name = CAST(:relation AS text)
) AS hypertable;
