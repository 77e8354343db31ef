-- N-period retention of the cohorts starting in [:since, :until], as known by the end of
-- the report period (cells of later periods are left out), offsets 0 to 12.
SELECT product_id, cohort, period_offset, cohort_size, retention_rate
FROM analytics.retention_triangle
WHERE grain = CAST(:grain AS text)
  AND segment_type = 'all'
  AND cohort >= :since AND cohort <= :until
  AND period < :end
  AND period_offset <= 12
ORDER BY product_id, cohort, period_offset
