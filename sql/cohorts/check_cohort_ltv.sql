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
expected AS (
    -- every user ever active, with the net revenue of all their days (check_firsts,
    -- sql/cohorts/check_firsts.sql, run first)
    SELECT coalesce(product_id, 'all') AS product_id, sum(net) AS net, count(*) AS users
    FROM check_firsts
    WHERE first_day IS NOT NULL
    GROUP BY GROUPING SETS ((product_id), ())
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
