-- growth.cohort_ltv: per grain and product, the cumulative net revenue of the last offset of
-- every cohort adds up to the net revenue (revenue - refunds) of all users ever active, from
-- growth.user_activity_daily; cohort sizes add up to the users ever active; cumulative
-- revenue is the running sum of the period revenue.
WITH last_cells AS (
    SELECT DISTINCT ON (grain, product_id, cohort) grain, product_id, cohort, cohort_size,
           cumulative_net_revenue
    FROM growth.cohort_ltv
    ORDER BY grain, product_id, cohort, period_offset DESC
),
totals AS (
    SELECT grain, product_id, sum(cumulative_net_revenue) AS net, sum(cohort_size) AS users
    FROM last_cells GROUP BY grain, product_id
),
members AS (
    SELECT product_id, user_id FROM growth.user_activity_daily WHERE active
    GROUP BY product_id, user_id
),
expected AS (
    SELECT coalesce(m.product_id, 'all') AS product_id,
           sum(a.net) AS net, count(*) AS users
    FROM members AS m
    LEFT JOIN (
        SELECT product_id, user_id, sum(revenue) - sum(refunds) AS net
        FROM growth.user_activity_daily GROUP BY product_id, user_id
    ) AS a USING (product_id, user_id)
    GROUP BY GROUPING SETS ((m.product_id), ())
),
running AS (
    SELECT cumulative_net_revenue
           - sum(net_revenue) OVER (PARTITION BY grain, product_id, cohort ORDER BY period_offset)
               AS drift
    FROM growth.cohort_ltv
)
SELECT
    (SELECT count(*) FROM growth.cohort_ltv) AS rows,
    (SELECT count(*)
     FROM (SELECT g.grain, e.product_id, e.net, e.users
           FROM expected AS e CROSS JOIN (VALUES ('week'), ('month')) AS g(grain)) AS x
     FULL JOIN totals AS t USING (grain, product_id)
     WHERE (coalesce(x.net, 0), x.users) IS DISTINCT FROM (coalesce(t.net, 0), coalesce(t.users, 0)))
        AS total_mismatches,
    (SELECT count(*) FROM running WHERE drift <> 0) AS running_mismatches;
