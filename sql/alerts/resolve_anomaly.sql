-- The metric is back inside the band at :period_start: resolve this (product, metric, grain)'s
-- open alerts of that period or earlier. Delivery then sends PagerDuty a resolve.
UPDATE ops.alerts
SET status = 'resolved',
    resolved_at = now(),
    resolved_by_period = CAST(:period AS text),
    updated_at = now()
WHERE status = 'open'
  AND kind = 'anomaly'
  AND product_id = CAST(:product_id AS text)
  AND metric = CAST(:metric AS text)
  AND grain = CAST(:grain AS text)
  AND period_start <= :period_start
RETURNING dedup_key
