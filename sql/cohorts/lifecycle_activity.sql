-- The active days (user-initiated event) on :since or later of the products :products, as
-- integers for growth_assets/cohorts/lifecycle.py: the user's number
-- (sql/cohorts/numbered_users.sql) and the day's offset from :origin. In no particular order.
SELECT u.user_no, a.day - CAST(:origin AS date) AS d
FROM growth.user_activity_daily AS a
JOIN numbered_users AS u USING (product_id, user_id)
WHERE a.active
  AND a.day >= CAST(:since AS date)
  AND a.product_id = ANY(CAST(:products AS text[]))
