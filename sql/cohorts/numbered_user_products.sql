-- The products of numbered_users (sql/cohorts/numbered_users.sql) with their users, in order:
-- growth accounting counts a group of products at a time (growth_assets/cohorts/lifecycle.py).
SELECT product_id, count(*) AS users FROM numbered_users GROUP BY product_id ORDER BY product_id
