-- growth.growth_accounting for the periods from the one holding :window_start on, per grain:
-- active = new + retained + resurrected; previous_active = the previous period's active
-- (0 before the product's first row); 'all' = the sum of the products; active = the distinct
-- active users of growth.user_activity_daily in the period, recounted here independently of
-- the asset (lifecycle.py sorts (user, period) pairs in polars): a user counts in the period
-- of each active day whose previous active day lies in an earlier period. One ordered pass
-- over the activity instead of hashing every (grain, period, user) pair, which spilled to
-- disk on large warehouses (5M events: 8.6-9.5 s instead of 10.6-15.4 s; 54-66 s of the
-- 20M build before).
WITH g AS (
    SELECT *,
           lag(active_users) OVER (PARTITION BY grain, product_id ORDER BY period) AS lag_active,
           lag(period) OVER (PARTITION BY grain, product_id ORDER BY period) AS lag_period
    FROM growth.growth_accounting
),
scope AS (
    SELECT * FROM g
    WHERE period >= CAST(date_trunc(grain, CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC')
                         AS date)
),
sums AS (
    SELECT grain, period, sum(active_users) AS active, sum(new_users) AS new,
           sum(churned_users) AS churned
    FROM scope WHERE product_id <> 'all' GROUP BY grain, period
),
ordered AS (
    -- each active day with the user's previous active day (NULL: none), in the
    -- (product_id, user_id, day) index's order, so the window needs no sort; from the
    -- earliest first period of the grains (no scope period starts before it), written out
    -- rather than joined from a CTE so that the planner bounds the index scans with it
    SELECT a.product_id, a.day,
           lag(a.day) OVER (PARTITION BY a.product_id, a.user_id ORDER BY a.day) AS prev
    FROM growth.user_activity_daily AS a
    WHERE a.active
      AND a.day >= CAST(least(date_trunc('week', CAST(:window_start AS timestamptz)
                                                 AT TIME ZONE 'UTC'),
                              date_trunc('month', CAST(:window_start AS timestamptz)
                                                  AT TIME ZONE 'UTC')) AS date)
),
daily AS (
    -- per product and day: the active users, and those of them for whom the day is the
    -- first of its ISO week / month (no earlier active day in that period; every scope
    -- period starts on or after the bound above, so a NULL prev means none)
    SELECT product_id, day, count(*) AS n_day,
           count(*) FILTER (WHERE prev IS NULL OR prev < CAST(date_trunc('week', CAST(day
                                AS timestamp)) AS date)) AS n_week,
           count(*) FILTER (WHERE prev IS NULL OR prev < CAST(date_trunc('month', CAST(day
                                AS timestamp)) AS date)) AS n_month
    FROM ordered
    GROUP BY product_id, day
),
recount AS (
    -- distinct active users per period: the users whose first active day of the period
    -- falls on each of its days, summed
    SELECT 'day' AS grain, d.product_id, d.day AS period, d.n_day AS active
    FROM daily AS d
    WHERE d.day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
    UNION ALL
    SELECT 'week', product_id, CAST(date_trunc('week', CAST(day AS timestamp)) AS date),
           sum(n_week)
    FROM daily GROUP BY 1, 2, 3
    UNION ALL
    SELECT 'month', product_id, CAST(date_trunc('month', CAST(day AS timestamp)) AS date),
           sum(n_month)
    FROM daily GROUP BY 1, 2, 3
)
SELECT
    count(*) AS rows,
    count(*) FILTER (WHERE s.active_users
                           <> s.new_users + s.retained_users + s.resurrected_users) AS identity,
    count(*) FILTER (WHERE s.previous_active_users <> s.retained_users + s.churned_users
                        OR s.previous_active_users
                           <> CASE WHEN s.lag_period = CAST(s.period - CAST('1 ' || s.grain
                                        AS interval) AS date) THEN s.lag_active ELSE 0 END)
        AS previous,
    count(*) FILTER (WHERE s.product_id = 'all'
                       AND (s.active_users, s.new_users, s.churned_users)
                           IS DISTINCT FROM (m.active, m.new, m.churned)) AS all_rows,
    count(*) FILTER (WHERE s.product_id <> 'all'
                       AND s.active_users <> coalesce(r.active, 0)) AS recount
FROM scope AS s
LEFT JOIN sums AS m USING (grain, period)
LEFT JOIN recount AS r USING (grain, product_id, period);
