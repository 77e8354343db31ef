-- Dashboard KPI query: every product's totals (and the portfolio row) for the last complete
-- calendar month before :as_of (a date), biggest net revenue first.
SELECT month, product_id, gross_revenue, refunds, net_revenue, signups, activations,
       active_users, churned_customers, paying_customers, tickets_created, arpu
FROM analytics.metrics_monthly
WHERE month = CAST(date_trunc('month', CAST(:as_of AS date)) - interval '1 month' AS date)
ORDER BY product_id = 'all' DESC, net_revenue DESC;
