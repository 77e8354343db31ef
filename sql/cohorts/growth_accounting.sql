-- Replace growth.growth_accounting for one grain (:grain = 'day', 'week' or 'month') from the
-- period holding :window_start to the last period with activity data. A day's activity
-- decides its own period, the next one (retained / resurrected / churned) and whether a
-- later first return of the user is new or resurrected, so every period from the window's
-- first one on is rebuilt; earlier periods depend only on earlier days and are kept.
--
-- Lifecycle (DESIGN.md), per product and user, with active = at least one user-initiated
-- event (growth.user_activity_daily.active): new = first active period; retained = active
-- now and in the previous period; resurrected = active now, not in the previous period,
-- active before; churned = active in the previous period, not now. Weeks are ISO (Monday),
-- all boundaries UTC. Periods without any active user keep a row (active 0) from the
-- product's first day on. 'all' is the sum of the products.
DELETE FROM growth.growth_accounting
WHERE grain = CAST(:grain AS text)
  AND period >= CAST(date_trunc(CAST(:grain AS text),
                                CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date);

WITH bounds AS (
    SELECT
        CAST(date_trunc(CAST(:grain AS text),
                        CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date) AS lo,
        CAST('1 ' || CAST(:grain AS text) AS interval) AS step,
        (SELECT CAST(date_trunc(CAST(:grain AS text), CAST(max(day) AS timestamp)) AS date)
         FROM growth.user_activity_daily) AS last
),
periods AS (
    -- active (product, user, period) from the period before the window's first one on
    SELECT a.product_id, a.user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(a.day AS timestamp)) AS date) AS period
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo - b.step
    GROUP BY 1, 2, 3
),
sequenced AS (
    SELECT p.product_id, p.user_id, p.period,
           lag(p.period) OVER w AS prev_period,
           lead(p.period) OVER w AS next_period,
           row_number() OVER w AS n
    FROM periods AS p
    WINDOW w AS (PARTITION BY p.product_id, p.user_id ORDER BY p.period)
),
classified AS (
    -- a user's first row here may have earlier history: their last active day before it
    SELECT s.product_id, s.period, b.step,
           CASE
               WHEN s.prev_period IS NOT NULL THEN s.prev_period
               WHEN s.n = 1 THEN CAST(date_trunc(CAST(:grain AS text), CAST(h.day AS timestamp))
                                      AS date)
           END AS prev_period
    FROM sequenced AS s
    CROSS JOIN bounds AS b
    LEFT JOIN LATERAL (
        SELECT max(a.day) AS day
        FROM growth.user_activity_daily AS a
        WHERE s.n = 1 AND s.prev_period IS NULL
          AND a.product_id = s.product_id AND a.user_id = s.user_id
          AND a.active AND a.day < b.lo - b.step
    ) AS h ON true
    WHERE s.period >= b.lo
),
moves AS (
    SELECT product_id, period,
           1 AS active,
           CASE WHEN prev_period IS NULL THEN 1 ELSE 0 END AS new,
           CASE WHEN prev_period = CAST(period - step AS date) THEN 1 ELSE 0 END AS retained,
           CASE WHEN prev_period < CAST(period - step AS date) THEN 1 ELSE 0 END AS resurrected,
           0 AS churned,
           CASE WHEN prev_period = CAST(period - step AS date) THEN 1 ELSE 0 END AS previous
    FROM classified
    UNION ALL
    -- churned in the period after an active one without a return in it
    SELECT s.product_id, CAST(s.period + b.step AS date), 0, 0, 0, 0, 1, 1
    FROM sequenced AS s, bounds AS b
    WHERE s.period + b.step >= b.lo
      AND s.period + b.step <= b.last
      AND (s.next_period IS NULL OR s.next_period > s.period + b.step)
),
counted AS (
    SELECT coalesce(product_id, 'all') AS product_id, period,
           sum(active) AS active, sum(new) AS new, sum(retained) AS retained,
           sum(resurrected) AS resurrected, sum(churned) AS churned, sum(previous) AS previous
    FROM moves
    GROUP BY GROUPING SETS ((product_id, period), (period))
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
    SELECT CAST(s AS date) AS period, p.product_id
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(CAST(b.lo AS timestamp), CAST(b.last AS timestamp), b.step) AS s
    JOIN products AS p
        ON CAST(date_trunc(CAST(:grain AS text), CAST(p.first_day AS timestamp)) AS date)
           <= CAST(s AS date)
    UNION
    SELECT period, product_id FROM counted
)
INSERT INTO growth.growth_accounting
    (grain, period, product_id, active_users, new_users, retained_users, resurrected_users,
     churned_users, previous_active_users, quick_ratio, retention_rate)
SELECT
    CAST(:grain AS text),
    g.period,
    g.product_id,
    coalesce(c.active, 0),
    coalesce(c.new, 0),
    coalesce(c.retained, 0),
    coalesce(c.resurrected, 0),
    coalesce(c.churned, 0),
    coalesce(c.previous, 0),
    round(CAST(c.new + c.resurrected AS numeric) / nullif(c.churned, 0), 6),
    round(CAST(c.retained AS numeric) / nullif(c.previous, 0), 6)
FROM grid AS g
LEFT JOIN counted AS c USING (period, product_id);
