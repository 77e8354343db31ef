-- Replace growth.power_users for the UTC days in [:window_start, :window_end): per product
-- and day, how many users were active (user-initiated event) on exactly n of the 7 (L7) and
-- of the 28 (L28) days ending that day.
--
-- Without a join per day: a user's active-day count over a trailing window rises by one on
-- each active day a and falls by one on a + window_days, so it is a step function with
-- change points there. Change points before the window are folded onto its first day (their
-- sum is the count on it). For each user the running sum gives the level from each change
-- point on; a move from level x to y is -1 in bucket x and +1 in bucket y on that day; a
-- running sum per (product, window, bucket) over the days, with a zero row on every day of
-- the window, gives the histogram of every day. 'all' is the sum of the products.
SET LOCAL work_mem = '64MB';

DELETE FROM growth.power_users
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date);

WITH bounds AS (
    SELECT
        CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) AS lo,
        CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) AS hi
),
windows AS (
    SELECT * FROM (VALUES (7), (28)) AS w(window_days)
),
act AS (
    -- bounds written out, not read from the CTE: the planner then knows how many rows come
    SELECT a.product_id, a.user_id, a.day
    FROM growth.user_activity_daily AS a
    WHERE a.active
      AND a.day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) - 27
      AND a.day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
),
points AS (
    SELECT a.product_id, a.user_id, w.window_days, greatest(a.day, b.lo) AS day, 1 AS delta
    FROM act AS a, windows AS w, bounds AS b
    WHERE a.day > b.lo - w.window_days
    UNION ALL
    SELECT a.product_id, a.user_id, w.window_days, a.day + w.window_days, -1
    FROM act AS a, windows AS w, bounds AS b
    WHERE a.day > b.lo - w.window_days AND a.day + w.window_days < b.hi
),
moves AS (
    -- each user's level after and before every change point, in one window pass; the
    -- partition leads with a hash of the user id so the sort compares integers, not text
    SELECT product_id, window_days, day,
           sum(CAST(sum(delta) AS integer)) OVER w AS level,
           sum(CAST(sum(delta) AS integer)) OVER w - sum(delta) AS before
    FROM points
    GROUP BY hashtextextended(user_id, 0), product_id, user_id, window_days, day
    WINDOW w AS (PARTITION BY hashtextextended(user_id, 0), product_id, user_id, window_days
                 ORDER BY day)
),
steps AS (
    SELECT product_id, window_days, day, CAST(level AS integer) AS bucket, 1 AS delta
    FROM moves
    WHERE level > 0 AND level <> before
    UNION ALL
    SELECT product_id, window_days, day, CAST(before AS integer), -1
    FROM moves
    WHERE before > 0 AND level <> before
    UNION ALL
    SELECT k.product_id, k.window_days, CAST(d AS date), k.bucket, 0
    FROM (SELECT DISTINCT product_id, window_days, CAST(level AS integer) AS bucket
          FROM moves WHERE level > 0) AS k
    CROSS JOIN bounds AS b
    CROSS JOIN LATERAL generate_series(CAST(b.lo AS timestamp), CAST(b.hi - 1 AS timestamp),
                                       interval '1 day') AS d
),
histogram AS (
    SELECT product_id, window_days, bucket, day,
           sum(CAST(sum(delta) AS integer))
               OVER (PARTITION BY product_id, window_days, bucket ORDER BY day) AS users
    FROM steps
    GROUP BY product_id, window_days, bucket, day
)
INSERT INTO growth.power_users (day, product_id, window_days, active_days, users)
SELECT day, coalesce(product_id, 'all'), window_days, bucket, sum(users)
FROM histogram
WHERE users > 0
GROUP BY GROUPING SETS ((day, product_id, window_days, bucket), (day, window_days, bucket))
ORDER BY 1, 2;
