-- Dashboard KPI query: every product's daily net revenue and actives over the last complete
-- calendar month before :as_of (a date), for a stacked chart.
SELECT day, product_id, net_revenue, active_users, signups
FROM analytics.metrics_daily
WHERE day >= CAST(date_trunc('month', CAST(:as_of AS date)) - interval '1 month' AS date)
  AND day < CAST(date_trunc('month', CAST(:as_of AS date)) AS date)
  AND product_id <> 'all'
ORDER BY day, product_id;
