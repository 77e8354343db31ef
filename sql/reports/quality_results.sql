-- Data-quality status of the inputs: the latest evaluation of every check whose window
-- overlaps [:start, :end) (or that reads a whole table), from analytics.quality_results.
SELECT DISTINCT ON (asset_key, check_name)
       asset_key, check_name, passed, severity, partition, checked_at
FROM analytics.quality_results
WHERE (window_start IS NULL OR window_start < :end)
  AND (window_end IS NULL OR window_end > :start)
ORDER BY asset_key, check_name, checked_at DESC, result_id DESC
