-- The products of adoption_users (sql/cohorts/adoption_users.sql) with their users, in order:
-- feature adoption counts a group of products at a time (growth_assets/cohorts/adoption.py).
SELECT product_id, count(*) AS users FROM adoption_users GROUP BY product_id ORDER BY product_id
