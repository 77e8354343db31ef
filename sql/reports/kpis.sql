-- KPIs of one period [:start, :end) per product (and 'all'), from the analytics views.
-- Additive figures are sums of the daily rows. Active users are distinct over the period:
-- the month's row of metrics_monthly for a month; for a week, distinct active users of
-- analytics.user_activity_daily (the 'all' row sums the products, counting (product, user)
-- pairs as every rollup does). DAU is the period's average, MAU the value on the period's
-- last day with data, stickiness the average of the daily DAU / MAU.
WITH d AS (
    SELECT product_id,
           sum(gross_revenue) AS gross_revenue,
           sum(refunds) AS refunds,
           sum(net_revenue) AS net_revenue,
           sum(signups) AS signups,
           sum(activations) AS activations,
           sum(churned_customers) AS churned_customers_days,
           sum(tickets_created) AS tickets_created
    FROM analytics.metrics_daily
    WHERE day >= :start AND day < :end
    GROUP BY product_id
),
e AS (
    SELECT product_id,
           round(avg(dau), 2) AS avg_dau,
           (array_agg(mau ORDER BY day DESC))[1] AS mau,
           round(avg(stickiness), 6) AS stickiness
    FROM analytics.engagement_daily
    WHERE day >= :start AND day < :end
    GROUP BY product_id
),
w AS (
    SELECT product_id, count(DISTINCT user_id) AS active_users
    FROM analytics.user_activity_daily
    WHERE day >= :start AND day < :end AND active AND CAST(:grain AS text) = 'week'
    GROUP BY product_id
),
weekly AS (
    SELECT product_id, active_users FROM w
    UNION ALL
    SELECT 'all', sum(active_users) FROM w
),
m AS (
    SELECT product_id, active_users, churned_customers
    FROM analytics.metrics_monthly
    WHERE month = :start
)
SELECT d.product_id,
       d.gross_revenue,
       d.refunds,
       d.net_revenue,
       d.signups,
       d.activations,
       CASE WHEN CAST(:grain AS text) = 'month' THEN m.churned_customers
            ELSE d.churned_customers_days END AS churned_customers,
       d.tickets_created,
       CASE WHEN CAST(:grain AS text) = 'month' THEN m.active_users
            ELSE coalesce(weekly.active_users, 0) END AS active_users,
       e.avg_dau,
       e.mau,
       e.stickiness
FROM d
LEFT JOIN e ON e.product_id = d.product_id
LEFT JOIN m ON m.product_id = d.product_id
LEFT JOIN weekly ON weekly.product_id = d.product_id
ORDER BY d.product_id <> 'all', d.product_id
