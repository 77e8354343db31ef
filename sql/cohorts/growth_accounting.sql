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

-- Hash joins and aggregates over a few hundred thousand rows: sorting them on text keys
-- (the planner's merge joins) was measured several times slower.
SET LOCAL work_mem = '64MB';
SET LOCAL enable_mergejoin = off;

-- The active (product, user, period) from the period before the window's first one on, in
-- a temporary table with statistics: the planner then hash-joins it with itself. (Dropped
-- here, not after the insert, so the insert's row count is the file's last; the last
-- grain's table goes at commit.)
DROP TABLE IF EXISTS ga_periods;

CREATE TEMP TABLE ga_periods (
    product_id text NOT NULL,
    user_id    text NOT NULL,
    period     date NOT NULL,
    prev       date NOT NULL
) ON COMMIT DROP;

INSERT INTO ga_periods (product_id, user_id, period, prev)
SELECT product_id, user_id, period,
       CAST(period - CAST('1 ' || CAST(:grain AS text) AS interval) AS date)
FROM (
    -- days: growth.user_activity_daily already holds one row per (day, product, user), so
    -- the daily grain skips the aggregate (the bound grain folds the other branch away)
    SELECT a.product_id, a.user_id, a.day AS period
    FROM growth.user_activity_daily AS a
    WHERE CAST(:grain AS text) = 'day'
      AND a.active
      AND a.day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) - 1
    UNION ALL
    SELECT a.product_id, a.user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(a.day AS timestamp)) AS date)
    FROM growth.user_activity_daily AS a
    WHERE CAST(:grain AS text) <> 'day'
      AND a.active
      AND a.day >= CAST(date_trunc(CAST(:grain AS text),
                                   CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC')
                        - CAST('1 ' || CAST(:grain AS text) AS interval) AS date)
    GROUP BY 1, 2, 3
) AS p;

ANALYZE ga_periods;

WITH bounds AS (
    SELECT
        CAST(date_trunc(CAST(:grain AS text),
                        CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date) AS lo,
        CAST('1 ' || CAST(:grain AS text) AS interval) AS step,
        (SELECT CAST(date_trunc(CAST(:grain AS text), CAST(max(day) AS timestamp)) AS date)
         FROM growth.user_activity_daily) AS last
),
periods AS (
    SELECT product_id, user_id, period, prev FROM ga_periods
),
earlier AS (
    -- users active before that: never new again
    SELECT a.product_id, a.user_id
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day < b.lo - b.step
    GROUP BY 1, 2
),
firsts AS (
    SELECT p.product_id, min(p.period) AS period
    FROM periods AS p
    WHERE NOT EXISTS (
        SELECT 1 FROM earlier AS e WHERE e.product_id = p.product_id AND e.user_id = p.user_id
    )
    GROUP BY p.product_id, p.user_id
),
moves AS (
    -- hash joins and counts only: active(t), retained(t) = active in t and t - 1, new(t);
    -- each counted per (product, period) before the union, so the last aggregate sees a few
    -- thousand rows (aggregating the union's row per user was planned as an external sort)
    SELECT product_id, period, count(*) AS active, 0 AS retained, 0 AS new
    FROM periods
    GROUP BY product_id, period
    UNION ALL
    SELECT p.product_id, p.period, 0, count(*), 0
    FROM periods AS p
    JOIN periods AS q
        ON q.product_id = p.product_id AND q.user_id = p.user_id AND q.period = p.prev
    GROUP BY p.product_id, p.period
    UNION ALL
    SELECT product_id, period, 0, 0, count(*)
    FROM firsts
    GROUP BY product_id, period
),
per_product AS (
    SELECT product_id, period, CAST(sum(active) AS bigint) AS active,
           CAST(sum(retained) AS bigint) AS retained, CAST(sum(new) AS bigint) AS new
    FROM moves
    GROUP BY product_id, period
),
products AS (
    SELECT product_id, CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date) AS first_day
    FROM growth.users
    GROUP BY product_id
),
grid AS (
    SELECT CAST(s AS date) AS period, p.product_id
    FROM bounds AS b
    CROSS JOIN LATERAL generate_series(CAST(b.lo - b.step AS timestamp),
                                       CAST(b.last AS timestamp), b.step) AS s
    JOIN products AS p
        ON CAST(date_trunc(CAST(:grain AS text), CAST(p.first_day AS timestamp)) AS date)
           <= CAST(s AS date)
    UNION
    SELECT period, product_id FROM per_product
),
lifecycle AS (
    -- resurrected = active - new - retained; previous = active(t - 1); churned = previous -
    -- retained
    SELECT g.product_id, g.period,
           coalesce(c.active, 0) AS active,
           coalesce(c.new, 0) AS new,
           coalesce(c.retained, 0) AS retained,
           coalesce(c.active, 0) - coalesce(c.new, 0) - coalesce(c.retained, 0) AS resurrected,
           coalesce(lag(c.active) OVER w, 0) AS previous
    FROM grid AS g
    LEFT JOIN per_product AS c USING (product_id, period)
    WINDOW w AS (PARTITION BY g.product_id ORDER BY g.period)
),
counted AS (
    SELECT coalesce(l.product_id, 'all') AS product_id, l.period,
           sum(l.active) AS active, sum(l.new) AS new, sum(l.retained) AS retained,
           sum(l.resurrected) AS resurrected, sum(l.previous - l.retained) AS churned,
           sum(l.previous) AS previous
    FROM lifecycle AS l, bounds AS b
    WHERE l.period >= b.lo AND l.period <= b.last
    GROUP BY GROUPING SETS ((l.product_id, l.period), (l.period))
)
INSERT INTO growth.growth_accounting
    (grain, period, product_id, active_users, new_users, retained_users, resurrected_users,
     churned_users, previous_active_users, quick_ratio, retention_rate)
SELECT
    CAST(:grain AS text),
    period,
    product_id,
    active,
    new,
    retained,
    resurrected,
    churned,
    previous,
    round(CAST(new + resurrected AS numeric) / nullif(churned, 0), 6),
    round(CAST(retained AS numeric) / nullif(previous, 0), 6)
FROM counted;
