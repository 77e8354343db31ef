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
grid AS (
    SELECT p.product_id, CAST(d AS date) AS day
    FROM (SELECT DISTINCT product_id FROM daily) AS p
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL generate_series(CAST(b.lo - 27 AS timestamp), CAST(b.hi - 1 AS timestamp),
                                       interval '1 day') AS d
),
trail AS (
    SELECT g.product_id, g.day,
           sum(coalesce(d.n, 0)) OVER (PARTITION BY g.product_id ORDER BY g.day
                                       ROWS BETWEEN 27 PRECEDING AND CURRENT ROW) AS user_days
    FROM grid AS g
    LEFT JOIN daily AS d USING (product_id, day)
),
expected AS (
    SELECT coalesce(e.day, t.day) AS day, coalesce(e.product_id, t.product_id) AS product_id,
           coalesce(e.wau, 0) AS wau, coalesce(t.user_days, 0) AS user_days
    FROM (SELECT e.day, e.product_id, e.wau
          FROM growth.engagement_daily AS e, bounds AS b
          WHERE e.day >= b.lo AND e.day < b.hi AND e.product_id <> 'all') AS e
    FULL JOIN (SELECT t.* FROM trail AS t, bounds AS b
               WHERE t.day >= b.lo AND t.day < b.hi AND t.user_days > 0) AS t
        USING (product_id, day)
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
