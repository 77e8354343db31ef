-- Bring growth.user_activity_totals in step after growth.user_activity_daily's window
-- [:window_start, :window_end) was replaced: for each user whose days in the window changed
-- (window_before against window_after, both sql/rollups/activity_window_totals.sql), the
-- totals less the old window plus the new one. Counts and money add up exactly. A first or
-- last day is kept when it lies outside the window (it still exists and bounds every other
-- day outside); when it lay inside, the new window's day replaces it, since every day outside
-- is then beyond it, and only when the window no longer has any such day for the user is the
-- table probed for the nearest day outside (one index probe, rare: a correction that removes
-- a user's days). A user left without any day loses their row.
CREATE TEMP TABLE totals_changed ON COMMIT DROP AS
WITH bounds AS (
    SELECT CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date) AS lo,
           CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date) AS hi
),
moved AS (
    SELECT coalesce(b.product_id, a.product_id) AS product_id,
           coalesce(b.user_id, a.user_id) AS user_id,
           coalesce(o.days, 0) - coalesce(b.days, 0) AS days_out,
           coalesce(o.active_days, 0) - coalesce(b.active_days, 0) AS active_out,
           o.first_day AS o_first, o.last_day AS o_last,
           o.first_active_day AS o_first_active, o.last_active_day AS o_last_active,
           coalesce(o.revenue, 0) - coalesce(b.revenue, 0) AS revenue_out,
           coalesce(o.refunds, 0) - coalesce(b.refunds, 0) AS refunds_out,
           a.first_day, a.last_day, a.first_active_day, a.last_active_day,
           coalesce(a.days, 0) AS days_in, coalesce(a.active_days, 0) AS active_in,
           coalesce(a.revenue, 0) AS revenue_in, coalesce(a.refunds, 0) AS refunds_in
    FROM window_before AS b
    FULL JOIN window_after AS a ON a.product_id = b.product_id AND a.user_id = b.user_id
    LEFT JOIN growth.user_activity_totals AS o
        ON o.product_id = coalesce(b.product_id, a.product_id)
       AND o.user_id = coalesce(b.user_id, a.user_id)
    -- a user whose days in the window did not change keeps their totals as they are (a
    -- re-run after late data touches a few users of the day)
    WHERE (b.first_day, b.last_day, b.days, b.first_active_day, b.last_active_day,
           b.active_days, b.revenue, b.refunds)
          IS DISTINCT FROM
          (a.first_day, a.last_day, a.days, a.first_active_day, a.last_active_day,
           a.active_days, a.revenue, a.refunds)
)
SELECT m.product_id, m.user_id,
       CASE WHEN m.o_first IS NULL OR m.o_first < w.lo OR m.o_first >= w.hi
                THEN least(m.o_first, m.first_day)
            WHEN m.first_day IS NOT NULL THEN m.first_day
            WHEN m.days_out > 0 THEN
                (SELECT min(x.day) FROM growth.user_activity_daily AS x
                 WHERE x.product_id = m.product_id AND x.user_id = m.user_id
                   AND x.day >= w.hi)
       END AS first_day,
       CASE WHEN m.o_last IS NULL OR m.o_last < w.lo OR m.o_last >= w.hi
                THEN greatest(m.o_last, m.last_day)
            WHEN m.last_day IS NOT NULL THEN m.last_day
            WHEN m.days_out > 0 THEN
                (SELECT max(x.day) FROM growth.user_activity_daily AS x
                 WHERE x.product_id = m.product_id AND x.user_id = m.user_id
                   AND x.day < w.lo)
       END AS last_day,
       m.days_out + m.days_in AS days,
       CASE WHEN m.o_first_active IS NULL OR m.o_first_active < w.lo
                 OR m.o_first_active >= w.hi
                THEN least(m.o_first_active, m.first_active_day)
            WHEN m.first_active_day IS NOT NULL THEN m.first_active_day
            WHEN m.active_out > 0 THEN
                (SELECT min(x.day) FROM growth.user_activity_daily AS x
                 WHERE x.product_id = m.product_id AND x.user_id = m.user_id
                   AND x.active AND x.day >= w.hi)
       END AS first_active_day,
       CASE WHEN m.o_last_active IS NULL OR m.o_last_active < w.lo
                 OR m.o_last_active >= w.hi
                THEN greatest(m.o_last_active, m.last_active_day)
            WHEN m.last_active_day IS NOT NULL THEN m.last_active_day
            WHEN m.active_out > 0 THEN
                (SELECT max(x.day) FROM growth.user_activity_daily AS x
                 WHERE x.product_id = m.product_id AND x.user_id = m.user_id
                   AND x.active AND x.day < w.lo)
       END AS last_active_day,
       m.active_out + m.active_in AS active_days,
       m.revenue_out + m.revenue_in AS revenue,
       m.refunds_out + m.refunds_in AS refunds
FROM moved AS m
CROSS JOIN bounds AS w;

DELETE FROM growth.user_activity_totals AS t
USING totals_changed AS c
WHERE c.days = 0
  AND t.product_id = c.product_id
  AND t.user_id = c.user_id;

INSERT INTO growth.user_activity_totals AS t
    (product_id, user_id, first_day, last_day, days, first_active_day, last_active_day,
     active_days, revenue, refunds)
SELECT product_id, user_id, first_day, last_day, days, first_active_day, last_active_day,
       active_days, revenue, refunds
FROM totals_changed
WHERE days > 0
ON CONFLICT (product_id, user_id) DO UPDATE
    SET first_day = excluded.first_day,
        last_day = excluded.last_day,
        days = excluded.days,
        first_active_day = excluded.first_active_day,
        last_active_day = excluded.last_active_day,
        active_days = excluded.active_days,
        revenue = excluded.revenue,
        refunds = excluded.refunds;
