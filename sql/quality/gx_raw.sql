-- The rows a raw-table expectation suite reads: one partition window of {{raw_table}}.
SELECT id, occurred_at, payload, jsonb_typeof(payload) AS payload_type
FROM {{raw_table}}
WHERE occurred_at >= :window_start
  AND occurred_at < :window_end
