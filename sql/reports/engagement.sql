-- DAU, WAU, MAU per product and day in [:since, :end).
SELECT day, product_id, dau, wau, mau
FROM analytics.engagement_daily
WHERE day >= :since AND day < :end
ORDER BY product_id, day
