-- growth.growth_accounting for the periods from the one holding :window_start on, per grain:
-- active = new + retained + resurrected; previous_active = the previous period's active
-- (0 before the product's first row); 'all' = the sum of the products; active = the distinct
-- active users of growth.user_activity_daily in the period (recounted here).
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
recount AS (
    -- distinct users per period, counted as rows of distinct (period, user) pairs (hashed,
    -- not sorted); a day needs no de-duplication: the table has one row per user-day
    SELECT grain, product_id, period, count(*) AS active
    FROM (
        SELECT 'day' AS grain, a.product_id, a.day AS period, a.user_id
        FROM growth.user_activity_daily AS a
        WHERE a.active
          AND a.day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
        UNION ALL
        SELECT DISTINCT gr.grain, a.product_id,
               CAST(date_trunc(gr.grain, CAST(a.day AS timestamp)) AS date), a.user_id
        FROM growth.user_activity_daily AS a
        CROSS JOIN (VALUES ('week'), ('month')) AS gr(grain)
        WHERE a.active
          AND a.day >= CAST(date_trunc(gr.grain,
                                       CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC')
                            AS date)
    ) AS pairs
    GROUP BY 1, 2, 3
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
