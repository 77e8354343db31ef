-- The products of a cohort asset's numbered users ({{users}}: cohort_members,
-- numbered_users or adoption_users) with their users, in order: the asset counts a group of
-- products at a time (growth_assets/cohorts/groups.py).
SELECT product_id, count(*) AS users FROM {{users}} GROUP BY product_id ORDER BY product_id
