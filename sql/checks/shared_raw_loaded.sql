-- Rows of one source in a shared raw table inside a window (compared with the distinct ids a
-- load wrote there).
SELECT count(*) AS rows_in_window
FROM {{raw_table}}
WHERE source = CAST(:source AS text)
  AND occurred_at >= :window_start
  AND occurred_at < :window_end;
