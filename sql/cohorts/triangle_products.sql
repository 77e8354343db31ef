-- The products of the cohort members (sql/cohorts/members.sql) with their member counts, in
-- order: growth_assets/cohorts/triangle.py computes the triangle a group of products at a
-- time.
SELECT product_id, count(*) AS members FROM cohort_members GROUP BY product_id ORDER BY product_id
