-- The rows the canonical expectation suite reads: one source's slice of growth.events.
SELECT event_id, occurred_at, product_id, source_id, event_type, user_id, value, currency,
       value_reporting
FROM growth.events
WHERE source = CAST(:source AS text)
  AND occurred_at >= :window_start
  AND occurred_at < :window_end
