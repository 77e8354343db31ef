-- A configured tabular source: every raw row of the window is one candidate event.
SELECT count(*) AS raw_rows, 0 AS not_events, count(*) AS expected
FROM raw.tabular_records
WHERE source = CAST(:source AS text)
  AND occurred_at >= :window_start AND occurred_at < :window_end;
