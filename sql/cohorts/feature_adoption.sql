-- Replace growth.feature_adoption for one grain (:grain = 'day', 'week' or 'month') and the
-- periods that hold a day of [:window_start, :window_end) (a week or month is recounted
-- whole), from the run's feature_usage table (sql/cohorts/feature_usage.sql: the events of
-- the configured features; an event of a feature's type whose properties->>property equals
-- its value is a use of it).
--
-- Feature adoption: of the users active in the period (user-initiated event,
-- growth.user_activity_daily.active), the share with at least one event matching the
-- feature in the period. 'all' is the sum of the products. A feature nobody used in a
-- period has no row.
SET LOCAL work_mem = '64MB';

DELETE FROM growth.feature_adoption
WHERE grain = CAST(:grain AS text)
  AND period >= CAST(date_trunc(CAST(:grain AS text),
                                CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date)
  AND period <= CAST(date_trunc(CAST(:grain AS text),
                                CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC'
                                - interval '1 day') AS date);

WITH bounds AS (
    SELECT
        CAST(date_trunc(CAST(:grain AS text),
                        CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC') AS date) AS lo,
        CAST(date_trunc(CAST(:grain AS text),
                        CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' - interval '1 day')
             + CAST('1 ' || CAST(:grain AS text) AS interval) AS date) AS hi
),
active AS (
    SELECT a.product_id, a.user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(a.day AS timestamp)) AS date) AS period
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo AND a.day < b.hi
    GROUP BY 1, 2, 3
),
used AS (
    SELECT DISTINCT u.product_id, u.user_id, u.feature,
           CAST(date_trunc(CAST(:grain AS text), CAST(u.day AS timestamp)) AS date) AS period
    FROM feature_usage AS u, bounds AS b
    WHERE u.day >= b.lo AND u.day < b.hi
),
actives AS (
    SELECT coalesce(product_id, 'all') AS product_id, period, count(*) AS active_users
    FROM active
    GROUP BY GROUPING SETS ((product_id, period), (period))
),
adopters AS (
    SELECT coalesce(u.product_id, 'all') AS product_id, u.period, u.feature,
           count(*) AS feature_users
    FROM used AS u
    JOIN active AS a USING (product_id, user_id, period)
    GROUP BY GROUPING SETS ((u.product_id, u.period, u.feature), (u.period, u.feature))
)
INSERT INTO growth.feature_adoption
    (grain, period, product_id, feature, active_users, feature_users, adoption)
SELECT
    CAST(:grain AS text),
    f.period,
    f.product_id,
    f.feature,
    a.active_users,
    f.feature_users,
    round(CAST(f.feature_users AS numeric) / a.active_users, 6)
FROM adopters AS f
JOIN actives AS a USING (product_id, period);
