-- Net revenue per product and month in [:since, :end).
SELECT month AS period, product_id, net_revenue
FROM analytics.metrics_monthly
WHERE month >= :since AND month < :end
ORDER BY product_id, month
