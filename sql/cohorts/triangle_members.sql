-- The cohort members (sql/cohorts/members.sql) of the products :products for
-- growth_assets/cohorts/triangle.py: the first and last active day and the segment values,
-- read whole (the segment values are text).
SELECT member_no, product_id, first_day, last_day, channel, country, week_plan, month_plan
FROM cohort_members
WHERE product_id = ANY(CAST(:products AS text[]))
