-- Rows of a raw table inside a window (compared with the distinct ids a load wrote there).
SELECT count(*) AS rows_in_window
FROM {{raw_table}}
WHERE occurred_at >= :window_start
  AND occurred_at < :window_end;
