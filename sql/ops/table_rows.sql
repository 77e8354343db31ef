-- Row counts of the warehouse's tables (exact), for the demo summary and the status command.
SELECT table_schema || '.' || table_name AS table_name,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name),
                           false, true, '')))[1]::text::bigint AS row_count
FROM information_schema.tables
WHERE table_schema IN ('raw', 'growth', 'ops')
  AND table_type = 'BASE TABLE'
ORDER BY table_schema, table_name;
