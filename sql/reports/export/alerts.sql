-- Export: alerts whose period starts in the report period.
SELECT * FROM analytics.alerts
WHERE period_start >= :start AND period_start < :end
ORDER BY period_start, product_id, metric
