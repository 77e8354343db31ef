-- Replace growth.engagement_daily for a few UTC days in [:window_start, :window_end): the
-- short-window form, for a day's partition and late-data rebuilds (the asset picks it for
-- windows of up to growth_assets.rollups.assets.RECENT_DAYS days (two); longer ranges use
-- engagement_daily.sql, whose numbers are the same: tests/test_rollups.py compares them).
-- DAU / WAU / MAU: distinct active users (growth.user_activity_daily.active) on the day, in
-- the trailing 7 days and in the trailing 30 days ending that day; stickiness = DAU / MAU.
--
-- For each day of the window, each (product, user) active in the 30 days ending that day is
-- one group of a hash aggregate keeping the user's last active day; the day's MAU counts the
-- groups, WAU those whose last day is at most 6 days back, DAU those whose last day is the
-- day. No sort, and the activity rows read are those of the window and its 29 preceding
-- days, found by the literal bounds (so TimescaleDB excludes every other chunk at planning).
-- The work grows with the window's length times 30 days of activity, which is why long
-- ranges use the sweep of engagement_daily.sql instead. The portfolio row ('all') counts
-- (product, user) pairs, the sum of the products.
DELETE FROM growth.engagement_daily
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date);

WITH RECURSIVE days AS (
    SELECT CAST(s AS date) AS day
    FROM generate_series(
        CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date),
        CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) - 1,
        interval '1 day'
    ) AS s
),
last_active AS (
    SELECT d.day, a.product_id, max(a.day) AS last_day
    FROM growth.user_activity_daily AS a
    JOIN days AS d ON a.day BETWEEN d.day - 29 AND d.day
    WHERE a.active
      AND a.day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) - 29
      AND a.day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
    GROUP BY d.day, a.product_id, a.user_id
),
counted AS (
    SELECT day, coalesce(product_id, 'all') AS product_id,
           count(*) FILTER (WHERE last_day = day) AS dau,
           count(*) FILTER (WHERE last_day >= day - 6) AS wau,
           count(*) AS mau
    FROM last_active
    GROUP BY GROUPING SETS ((day, product_id), (day))
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
