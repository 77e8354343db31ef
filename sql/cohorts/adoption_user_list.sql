-- The numbered users of sql/cohorts/adoption_users.sql of the products :products, and their
-- product.
SELECT user_no, product_id FROM adoption_users
WHERE product_id = ANY(CAST(:products AS text[]))
