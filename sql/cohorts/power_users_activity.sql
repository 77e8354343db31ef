-- One product's active days (user-initiated event) that reach into the UTC days
-- [:lo, :hi): the 27 days before :lo count towards L28 on the window's first days. Read by
-- growth_assets/cohorts/power_users.py as CSV; ``d`` is the day's offset from :lo.
SELECT a.user_id, a.day - CAST(:lo AS date) AS d
FROM growth.user_activity_daily AS a
WHERE a.product_id = CAST(:product_id AS text)
  AND a.active
  AND a.day >= CAST(:lo AS date) - 27
  AND a.day < CAST(:hi AS date)
