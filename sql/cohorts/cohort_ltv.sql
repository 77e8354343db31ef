-- Rebuild growth.cohort_ltv for one grain (:grain = 'week' or 'month') from numbered_users
-- (sql/cohorts/numbered_users.sql, every member) and growth.user_activity_daily. A late charge or refund changes
-- the cumulative revenue of every later offset of its cohort, and a day's activity can move
-- a member's cohort, so the whole grain is rebuilt in the run's transaction.
--
-- LTV by cohort (DESIGN.md): cumulative net revenue (gross revenue minus refunds, reporting
-- currency, each counted in the period it happened) of the cohort's members per member, by
-- periods since the cohort period. Money before a member's first active period counts in
-- period 0. Dense: every offset from 0 to the last period with data. 'all' = the sum.
-- Hash joins, not merge joins sorting on text keys (as in retention_triangle.sql).
SET LOCAL enable_mergejoin = off;

DELETE FROM growth.cohort_ltv WHERE grain = CAST(:grain AS text);

WITH bounds AS (
    SELECT CAST(date_trunc(CAST(:grain AS text), CAST(max(day) AS timestamp)) AS date) AS last
    FROM growth.user_activity_daily
),
members AS (
    SELECT product_id, user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(first_day AS timestamp)) AS date) AS cohort
    FROM numbered_users
),
sizes AS (
    SELECT coalesce(product_id, 'all') AS product_id, cohort, count(*) AS cohort_size
    FROM members
    GROUP BY GROUPING SETS ((product_id, cohort), (cohort))
),
paid AS MATERIALIZED (
    -- the few days with money, read once: joined to the members by hash (planned as a join
    -- per member into every chunk's index, it took seconds at the design scale)
    SELECT a.product_id, a.user_id, a.day, a.revenue, a.refunds
    FROM growth.user_activity_daily AS a
    WHERE a.revenue <> 0 OR a.refunds <> 0
),
money AS (
    SELECT m.product_id, m.cohort,
           CAST(date_trunc(CAST(:grain AS text), CAST(a.day AS timestamp)) AS date) AS period,
           a.revenue, a.refunds
    FROM paid AS a
    JOIN members AS m USING (product_id, user_id)
),
by_offset AS (
    SELECT coalesce(product_id, 'all') AS product_id, cohort, k,
           sum(revenue) AS gross_revenue, sum(refunds) AS refunds
    FROM (
        SELECT product_id, cohort, revenue, refunds,
               greatest(0, CASE
                   WHEN CAST(:grain AS text) = 'week' THEN (period - cohort) / 7
                   ELSE CAST((extract(year FROM period) - extract(year FROM cohort)) * 12
                             + extract(month FROM period) - extract(month FROM cohort)
                             AS integer)
               END) AS k
        FROM money
    ) AS o
    GROUP BY GROUPING SETS ((product_id, cohort, k), (cohort, k))
),
grid AS (
    SELECT s.product_id, s.cohort, s.cohort_size, k
    FROM sizes AS s
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL generate_series(0, CASE
        WHEN CAST(:grain AS text) = 'week' THEN (b.last - s.cohort) / 7
        ELSE CAST((extract(year FROM b.last) - extract(year FROM s.cohort)) * 12
                  + extract(month FROM b.last) - extract(month FROM s.cohort) AS integer)
    END) AS k
),
filled AS (
    SELECT g.product_id, g.cohort, g.k, g.cohort_size,
           coalesce(o.gross_revenue, 0) AS gross_revenue,
           coalesce(o.refunds, 0) AS refunds,
           coalesce(o.gross_revenue, 0) - coalesce(o.refunds, 0) AS net_revenue
    FROM grid AS g
    LEFT JOIN by_offset AS o USING (product_id, cohort, k)
)
INSERT INTO growth.cohort_ltv
    (grain, product_id, cohort, period_offset, cohort_size, gross_revenue, refunds,
     net_revenue, cumulative_net_revenue, ltv)
SELECT
    CAST(:grain AS text),
    product_id,
    cohort,
    k,
    cohort_size,
    gross_revenue,
    refunds,
    net_revenue,
    sum(net_revenue) OVER w,
    round(sum(net_revenue) OVER w / cohort_size, 6)
FROM filled
WINDOW w AS (PARTITION BY product_id, cohort ORDER BY k);
