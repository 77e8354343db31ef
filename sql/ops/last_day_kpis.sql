-- The latest day's KPIs per product from growth.metrics_daily (demo summary).
SELECT day, product_id, net_revenue, signups, activations, active_users, churned_customers,
       tickets_created
FROM growth.metrics_daily
WHERE day = (SELECT max(day) FROM growth.metrics_daily)
ORDER BY product_id = 'all', product_id;
