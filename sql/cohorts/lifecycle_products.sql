-- Each product's first day (its first user's first_seen_at, UTC): growth accounting keeps a
-- row for every period from the product's first one on, with active users or not.
SELECT product_id, CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date) AS first_day
FROM growth.users
GROUP BY product_id
