-- Hours of growth.events marked stale after :after (NULL: every mark), latest mark per hour.
SELECT window_start, max(marked_at) AS marked_at
FROM ops.stale_windows
WHERE relation = 'growth.events'
  AND (CAST(:after AS timestamptz) IS NULL OR marked_at > CAST(:after AS timestamptz))
GROUP BY window_start
ORDER BY window_start;
