-- The rows a raw-table expectation suite reads: one source's partition window of the shared
-- {{raw_table}} (configured tabular sources).
SELECT id, occurred_at, payload, jsonb_typeof(payload) AS payload_type
FROM {{raw_table}}
WHERE source = CAST(:source AS text)
  AND occurred_at >= :window_start
  AND occurred_at < :window_end
