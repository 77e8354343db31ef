-- Net revenue per product and day in [:since, :end).
SELECT day AS period, product_id, net_revenue
FROM analytics.metrics_daily
WHERE day >= :since AND day < :end
ORDER BY product_id, day
