-- Replace growth.feature_adoption for one grain (:grain = 'day', 'week' or 'month') and the
-- periods that hold a day of [:window_start, :window_end) (a week or month is recounted
-- whole). :features is the configured list as a JSON array of {feature, event_type,
-- property, value}: an event of that type whose properties->>property equals value is a
-- use of the feature.
--
-- Feature adoption: of the users active in the period (user-initiated event,
-- growth.user_activity_daily.active), the share with at least one event matching the
-- feature in the period. 'all' is the sum of the products. A feature nobody used in a
-- period has no row.
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
features AS (
    SELECT feature, event_type, property, value
    FROM jsonb_to_recordset(CAST(:features AS jsonb))
        AS f(feature text, event_type text, property text, value text)
),
properties AS (
    SELECT DISTINCT property FROM features
),
active AS (
    SELECT a.product_id, a.user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(a.day AS timestamp)) AS date) AS period
    FROM growth.user_activity_daily AS a, bounds AS b
    WHERE a.active AND a.day >= b.lo AND a.day < b.hi
    GROUP BY 1, 2, 3
),
used AS (
    SELECT DISTINCT e.product_id, e.user_id, f.feature,
           CAST(date_trunc(CAST(:grain AS text), e.occurred_at AT TIME ZONE 'UTC') AS date)
               AS period
    FROM growth.events AS e
    CROSS JOIN bounds AS b
    CROSS JOIN properties AS p
    JOIN features AS f
        ON f.property = p.property
       AND f.event_type = e.event_type
       AND f.value = e.properties ->> p.property
    WHERE e.occurred_at >= CAST(b.lo AS timestamp) AT TIME ZONE 'UTC'
      AND e.occurred_at < CAST(b.hi AS timestamp) AT TIME ZONE 'UTC'
      AND e.event_type IN (SELECT event_type FROM features)
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
