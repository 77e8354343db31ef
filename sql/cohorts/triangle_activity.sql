-- Every active day (user-initiated event) of the cohort members of the products :products
-- (sql/cohorts/members.sql) for growth_assets/cohorts/triangle.py, as integers only: the
-- member's number and the day's offset from :origin (a Monday, so whole weeks of offsets are
-- ISO weeks). In no particular order.
SELECT m.member_no, a.day - CAST(:origin AS date) AS d
FROM growth.user_activity_daily AS a
JOIN cohort_members AS m USING (product_id, user_id)
WHERE a.active
  AND a.product_id = ANY(CAST(:products AS text[]))
