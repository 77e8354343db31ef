-- The numbered users of sql/cohorts/adoption_users.sql and their product.
SELECT user_no, product_id FROM adoption_users
