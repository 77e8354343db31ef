-- Replace growth.engagement_daily for the UTC days in [:window_start, :window_end).
-- DAU / WAU / MAU: distinct active users (growth.user_activity_daily.active) on the day, in
-- the trailing 7 days and in the trailing 30 days ending that day; stickiness = DAU / MAU.
--
-- Distinct counts over sliding windows without a join per day: each active day of a user
-- "covers" the days up to the user's next active day, at most 6 (WAU) or 29 (MAU) days
-- later, so the covers of one user never overlap. A user is in day d's MAU exactly when one
-- of their covers contains d; from the window's first day on, the count is a running sum of
-- +1 where a cover enters the window and -1 after it ends. Covers ending before the window
-- are dropped first, and before the window only a user's last active day is read, so a
-- one-day refresh aggregates the 29 preceding days once instead of ordering them. DAU comes
-- straight from the day's active rows. The portfolio row ('all') counts (product, user)
-- pairs, the sum of the products.
DELETE FROM growth.engagement_daily
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date);

WITH RECURSIVE bounds AS (
    SELECT
        CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) AS lo,
        CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) AS hi
),
act AS (
    SELECT r.product_id, r.day,
           lead(r.day) OVER (PARTITION BY r.product_id, r.user_id ORDER BY r.day) AS next_day
    FROM (
        -- before the window only each user's last active day can cover a day of the window
        SELECT a.product_id, a.user_id, max(a.day) AS day
        FROM growth.user_activity_daily AS a, bounds AS b
        WHERE a.active AND a.day >= b.lo - 29 AND a.day < b.lo
        GROUP BY a.product_id, a.user_id
        UNION ALL
        SELECT a.product_id, a.user_id, a.day
        FROM growth.user_activity_daily AS a, bounds AS b
        WHERE a.active AND a.day >= b.lo AND a.day < b.hi
    ) AS r
),
covers AS (
    SELECT c.product_id, greatest(c.day, b.lo) AS enters, c.wau_last, c.mau_last
    FROM (
        SELECT product_id, day,
               least(day + 6, coalesce(next_day - 1, day + 6)) AS wau_last,
               least(day + 29, coalesce(next_day - 1, day + 29)) AS mau_last
        FROM act
    ) AS c, bounds AS b
    WHERE c.mau_last >= b.lo
),
days AS (
    SELECT CAST(s AS date) AS day
    FROM bounds AS b, generate_series(b.lo, b.hi - 1, interval '1 day') AS s
),
steps AS (
    SELECT c.product_id, c.enters AS day,
           CASE WHEN c.wau_last >= c.enters THEN 1 ELSE 0 END AS wau, 1 AS mau
    FROM covers AS c
    UNION ALL
    SELECT c.product_id, c.wau_last + 1, -1, 0
    FROM covers AS c, bounds AS b
    WHERE c.wau_last >= c.enters AND c.wau_last + 1 < b.hi
    UNION ALL
    SELECT c.product_id, c.mau_last + 1, 0, -1
    FROM covers AS c, bounds AS b
    WHERE c.mau_last + 1 < b.hi
    UNION ALL
    SELECT p.product_id, d.day, 0, 0
    FROM (SELECT DISTINCT product_id FROM covers) AS p CROSS JOIN days AS d
),
levels AS (
    SELECT product_id, day,
           sum(sum(wau)) OVER w AS wau,
           sum(sum(mau)) OVER w AS mau
    FROM steps
    GROUP BY product_id, day
    WINDOW w AS (PARTITION BY product_id ORDER BY day)
),
dau AS (
    SELECT a.day, a.product_id, count(*) AS dau
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo AND a.day < b.hi
    GROUP BY a.day, a.product_id
),
counted AS (
    SELECT l.day, coalesce(l.product_id, 'all') AS product_id,
           sum(coalesce(d.dau, 0)) AS dau, sum(l.wau) AS wau, sum(l.mau) AS mau
    FROM levels AS l
    LEFT JOIN dau AS d USING (day, product_id)
    GROUP BY GROUPING SETS ((l.day, l.product_id), (l.day))
),
product_ids AS (
    -- the products, by skipping through growth.users' primary key (one probe each), and
    -- each one's first day from the (product_id, first_seen_at) index (migration 0020)
    SELECT min(product_id) AS product_id FROM growth.users
    UNION ALL
    SELECT (SELECT min(u.product_id) FROM growth.users AS u
            WHERE u.product_id > p.product_id)
    FROM product_ids AS p
    WHERE p.product_id IS NOT NULL
),
first_days AS (
    SELECT p.product_id,
           (SELECT CAST(min(u.first_seen_at) AT TIME ZONE 'UTC' AS date)
            FROM growth.users AS u WHERE u.product_id = p.product_id) AS first_day
    FROM product_ids AS p
    WHERE p.product_id IS NOT NULL
),
products AS (
    SELECT product_id, first_day FROM first_days
    UNION ALL
    SELECT 'all', min(first_day) FROM first_days
),
grid AS (
    SELECT d.day, p.product_id
    FROM days AS d
    JOIN products AS p ON p.first_day <= d.day
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
