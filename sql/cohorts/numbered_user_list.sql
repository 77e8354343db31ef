-- The users of sql/cohorts/numbered_users.sql of the products :products, for
-- growth_assets/cohorts/lifecycle.py: the number, the product and the first active day as an
-- offset from :origin.
SELECT user_no, product_id, first_day - CAST(:origin AS date) AS first_d
FROM numbered_users
WHERE product_id = ANY(CAST(:products AS text[]))
