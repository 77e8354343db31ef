-- Mixpanel: every raw event of the window (one per $insert_id: duplicates were merged at
-- ingest, by the raw table's key) is one candidate event.
SELECT count(*) AS raw_rows, 0 AS not_events, count(*) AS expected
FROM raw.mixpanel_events
WHERE occurred_at >= :window_start AND occurred_at < :window_end;
