-- (product, user) pairs with events in the window but no row in growth.users.
SELECT count(*) AS missing
FROM (
    SELECT DISTINCT product_id, user_id
    FROM growth.events
    WHERE occurred_at >= :window_start AND occurred_at < :window_end
) AS e
WHERE NOT EXISTS (
    SELECT 1 FROM growth.users AS u
    WHERE u.product_id = e.product_id AND u.user_id = e.user_id
);
