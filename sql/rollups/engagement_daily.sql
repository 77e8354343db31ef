-- Replace growth.engagement_daily for the UTC days in [:window_start, :window_end).
-- DAU / WAU / MAU: distinct active users (growth.user_activity_daily.active) on the day, in
-- the trailing 7 days and in the trailing 30 days ending that day; stickiness = DAU / MAU.
--
-- Distinct counts over sliding windows without a join per day: each active day of a user
-- "covers" the days up to the user's next active day, at most 6 (WAU) or 29 (MAU) days
-- later, so the covers of one user never overlap. A user is in day d's MAU exactly when one
-- of their covers contains d; the count is a running sum of +1 at a cover's first day and
-- -1 after its last, linear in the activity rows. The portfolio row ('all') counts
-- (product, user) pairs, the sum of the products.
DELETE FROM growth.engagement_daily
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date);

WITH bounds AS (
    SELECT
        CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) AS lo,
        CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) AS hi
),
act AS (
    SELECT a.product_id, a.day,
           lead(a.day) OVER (PARTITION BY a.product_id, a.user_id ORDER BY a.day) AS next_day
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo - 29 AND a.day < b.hi
),
covers AS (
    SELECT product_id, day,
           least(day + 6, coalesce(next_day - 1, day + 6)) AS wau_last,
           least(day + 29, coalesce(next_day - 1, day + 29)) AS mau_last
    FROM act
),
days AS (
    SELECT CAST(s AS date) AS day
    FROM bounds AS b, generate_series(b.lo - 29, b.hi - 1, interval '1 day') AS s
),
steps AS (
    SELECT product_id, day, 1 AS dau, 1 AS wau, 1 AS mau FROM covers
    UNION ALL SELECT product_id, day + 1, -1, 0, 0 FROM covers
    UNION ALL SELECT product_id, wau_last + 1, 0, -1, 0 FROM covers
    UNION ALL SELECT product_id, mau_last + 1, 0, 0, -1 FROM covers
    UNION ALL SELECT p.product_id, d.day, 0, 0, 0
    FROM (SELECT DISTINCT product_id FROM covers) AS p CROSS JOIN days AS d
),
levels AS (
    SELECT product_id, day,
           sum(sum(dau)) OVER w AS dau,
           sum(sum(wau)) OVER w AS wau,
           sum(sum(mau)) OVER w AS mau
    FROM steps
    GROUP BY product_id, day
    WINDOW w AS (PARTITION BY product_id ORDER BY day)
),
counted AS (
    SELECT l.day, coalesce(l.product_id, 'all') AS product_id,
           sum(l.dau) AS dau, sum(l.wau) AS wau, sum(l.mau) AS mau
    FROM levels AS l, bounds AS b
    WHERE l.day >= b.lo AND l.day < b.hi
    GROUP BY GROUPING SETS ((l.day, l.product_id), (l.day))
),
products AS (
    SELECT product_id, CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date) AS first_day
    FROM growth.users
    GROUP BY product_id
    UNION ALL
    SELECT 'all', CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date)
    FROM growth.users
),
grid AS (
    SELECT d.day, p.product_id
    FROM days AS d
    CROSS JOIN bounds AS b
    JOIN products AS p ON p.first_day <= d.day
    WHERE d.day >= b.lo
    UNION
    SELECT day, product_id FROM counted WHERE mau > 0
)
INSERT INTO growth.engagement_daily (day, product_id, dau, wau, mau, stickiness)
SELECT
    g.day,
    g.product_id,
    coalesce(c.dau, 0),
    coalesce(c.wau, 0),
    coalesce(c.mau, 0),
    round(CAST(c.dau AS numeric) / nullif(c.mau, 0), 6)
FROM grid AS g
LEFT JOIN counted AS c USING (day, product_id);
