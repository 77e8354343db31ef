-- Dashboard KPI query: DAU, WAU, MAU and stickiness of one product (or 'all') for the 365
-- days ending :as_of (a date).
SELECT day, dau, wau, mau, stickiness
FROM analytics.engagement_daily
WHERE product_id = CAST(:product_id AS text)
  AND day > CAST(:as_of AS date) - 365
  AND day <= CAST(:as_of AS date)
ORDER BY day;
