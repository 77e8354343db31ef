-- The last day of a window in growth.metrics_daily, for the asset's metadata preview.
SELECT day, product_id, net_revenue, signups, active_users, churned_customers
FROM growth.metrics_daily
WHERE day = CAST(:window_end AT TIME ZONE 'UTC' AS date) - 1
ORDER BY product_id = 'all' DESC, net_revenue DESC;
