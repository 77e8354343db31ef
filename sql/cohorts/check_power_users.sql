-- growth.power_users for the days of one window: the L7 users of a (day, product) add up to
-- its WAU in growth.engagement_daily; active_days x users over L28 adds up to the active
-- user-days of the 28 days ending that day (recounted from growth.user_activity_daily);
-- 'all' = the sum of the products.
WITH bounds AS (
    SELECT
        CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) AS lo,
        CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) AS hi
),
p AS (
    SELECT u.day, u.product_id,
           sum(u.users) FILTER (WHERE u.window_days = 7) AS l7_users,
           sum(u.users * u.active_days) FILTER (WHERE u.window_days = 28) AS l28_user_days
    FROM growth.power_users AS u, bounds AS b
    WHERE u.day >= b.lo AND u.day < b.hi
    GROUP BY u.day, u.product_id
),
daily AS (
    SELECT a.product_id, a.day, count(*) AS n
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo - 27 AND a.day < b.hi
    GROUP BY a.product_id, a.day
),
trail AS (
    SELECT product_id, day,
           sum(n) OVER (PARTITION BY product_id ORDER BY day
                        RANGE BETWEEN interval '27 days' PRECEDING AND CURRENT ROW) AS user_days
    FROM daily
),
expected AS (
    SELECT e.day, e.product_id, e.wau, coalesce(t.user_days, 0) AS user_days
    FROM growth.engagement_daily AS e
    CROSS JOIN bounds AS b
    LEFT JOIN trail AS t USING (product_id, day)
    WHERE e.day >= b.lo AND e.day < b.hi AND e.product_id <> 'all' AND e.wau > 0
),
sums AS (
    SELECT day, sum(l7_users) AS l7, sum(l28_user_days) AS l28
    FROM p WHERE product_id <> 'all' GROUP BY day
)
SELECT
    (SELECT count(*) FROM p) AS rows,
    (SELECT count(*) FROM expected AS x FULL JOIN p USING (day, product_id)
     WHERE p.product_id IS DISTINCT FROM 'all'
       AND coalesce(p.l7_users, 0) <> coalesce(x.wau, 0)) AS wau_mismatches,
    (SELECT count(*) FROM expected AS x FULL JOIN p USING (day, product_id)
     WHERE p.product_id IS DISTINCT FROM 'all'
       AND coalesce(p.l28_user_days, 0) <> coalesce(x.user_days, 0)) AS l28_mismatches,
    (SELECT count(*) FROM p JOIN sums AS s USING (day)
     WHERE p.product_id = 'all'
       AND (p.l7_users, p.l28_user_days) IS DISTINCT FROM (s.l7, s.l28)) AS all_mismatches;
