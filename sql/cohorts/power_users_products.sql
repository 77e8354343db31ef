-- The products with activity rows, found by skipping through the (product_id, user_id, day)
-- index of growth.user_activity_daily (a handful of index probes, not a scan of the table).
WITH RECURSIVE products AS (
    SELECT min(product_id) AS product_id FROM growth.user_activity_daily
    UNION ALL
    SELECT (SELECT min(a.product_id) FROM growth.user_activity_daily AS a
            WHERE a.product_id > p.product_id)
    FROM products AS p
    WHERE p.product_id IS NOT NULL
)
SELECT product_id FROM products WHERE product_id IS NOT NULL ORDER BY product_id;
