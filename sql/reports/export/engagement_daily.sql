-- Export: DAU / WAU / MAU of the report period.
SELECT * FROM analytics.engagement_daily
WHERE day >= :start AND day < :end
ORDER BY day, product_id
