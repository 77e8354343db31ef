-- A data-quality check that failed for a partition passed for it again.
UPDATE ops.alerts
SET status = 'resolved',
    resolved_at = now(),
    resolved_by_period = CAST(:period AS text),
    updated_at = now()
WHERE status = 'open'
  AND kind = 'check'
  AND metric = CAST(:metric AS text)
  AND period = CAST(:period AS text)
RETURNING dedup_key
