-- Dashboard KPI query: one product's daily metrics for the 90 days ending :as_of (a date).
-- Served by growth.metrics_daily's (product_id, day) index through analytics.metrics_daily.
SELECT day, gross_revenue, refunds, net_revenue, signups, activations, active_users,
       churned_customers, paying_customers, tickets_created, tickets_solved, arpu
FROM analytics.metrics_daily
WHERE product_id = CAST(:product_id AS text)
  AND day > CAST(:as_of AS date) - 90
  AND day <= CAST(:as_of AS date)
ORDER BY day;
