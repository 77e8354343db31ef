-- Export: daily KPIs of the report period.
SELECT * FROM analytics.metrics_daily
WHERE day >= :start AND day < :end
ORDER BY day, product_id
