-- growth.feature_adoption for the periods holding a day of one window: feature users never
-- exceed the active users; active users equal the period's distinct active users of
-- growth.user_activity_daily (recounted here); 'all' = the sum of the products. Also lists
-- the configured features seen in the window.
WITH f AS (
    SELECT *
    FROM growth.feature_adoption
    WHERE period >= CAST(date_trunc(grain, CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC')
                         AS date)
      AND period <= CAST(date_trunc(grain, CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC'
                                    - interval '1 day') AS date)
),
recount AS (
    SELECT g.grain, a.product_id,
           CAST(date_trunc(g.grain, CAST(a.day AS timestamp)) AS date) AS period,
           count(DISTINCT a.user_id) AS active
    FROM growth.user_activity_daily AS a
    CROSS JOIN (VALUES ('day'), ('week'), ('month')) AS g(grain)
    WHERE a.active
      AND a.day >= CAST(date_trunc(g.grain,
                                   CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date)
      AND a.day < CAST(date_trunc(g.grain, CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC'
                                  - interval '1 day') + CAST('1 ' || g.grain AS interval) AS date)
    GROUP BY 1, 2, 3
),
sums AS (
    SELECT grain, period, feature, sum(feature_users) AS users
    FROM f WHERE product_id <> 'all' GROUP BY 1, 2, 3
)
SELECT
    count(*) AS rows,
    count(*) FILTER (WHERE f.feature_users > f.active_users) AS over_active,
    count(*) FILTER (WHERE f.product_id <> 'all'
                       AND f.active_users IS DISTINCT FROM r.active) AS active_mismatches,
    count(*) FILTER (WHERE f.product_id = 'all' AND f.feature_users <> s.users) AS all_mismatches,
    coalesce(array_agg(DISTINCT f.feature), '{}') AS features_seen
FROM f
LEFT JOIN recount AS r USING (grain, product_id, period)
LEFT JOIN sums AS s USING (grain, period, feature);
