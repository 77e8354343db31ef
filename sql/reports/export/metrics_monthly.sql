-- Export: monthly KPIs of the months the report period touches.
SELECT * FROM analytics.metrics_monthly
WHERE month >= CAST(date_trunc('month', CAST(:start AS date)) AS date) AND month < :end
ORDER BY month, product_id
