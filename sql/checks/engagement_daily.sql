-- growth.engagement_daily for one window: DAU equals the active rows of
-- growth.user_activity_daily, DAU <= WAU <= MAU, and 'all' is the sum of the products.
WITH e AS (
    SELECT day, product_id, dau, wau, mau
    FROM growth.engagement_daily
    WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
      AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
),
a AS (
    SELECT day, product_id, count(*) AS active
    FROM growth.user_activity_daily
    WHERE active
      AND day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
      AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
    GROUP BY day, product_id
),
sums AS (
    SELECT day, sum(dau) AS dau, sum(wau) AS wau, sum(mau) AS mau
    FROM e WHERE product_id <> 'all' GROUP BY day
)
SELECT
    count(*) AS rows,
    count(*) FILTER (WHERE e.product_id <> 'all' AND e.dau <> coalesce(a.active, 0)) AS dau_mismatches,
    count(*) FILTER (WHERE NOT (e.dau <= e.wau AND e.wau <= e.mau)) AS unordered,
    count(*) FILTER (WHERE e.product_id = 'all'
                       AND (e.dau, e.wau, e.mau) IS DISTINCT FROM (s.dau, s.wau, s.mau)) AS all_mismatches
FROM e
LEFT JOIN a USING (day, product_id)
LEFT JOIN sums AS s USING (day);
