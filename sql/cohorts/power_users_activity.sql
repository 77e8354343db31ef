-- One product's active days (user-initiated event) that reach into the UTC days
-- [:lo, :hi): the 27 days before :lo count towards L28 on the window's first days. Read by
-- growth_assets/cohorts/histogram.py as CSV of integers only: ``user_no`` numbers the users
-- (dense, in user-id order), ``d`` is the day's offset from :lo. Rows come in user order,
-- which the (product_id, user_id, day) index gives without a sort (the order of the days
-- within a user does not matter).
SELECT dense_rank() OVER (ORDER BY a.user_id) AS user_no,
       a.day - CAST(:lo AS date) AS d
FROM growth.user_activity_daily AS a
WHERE a.product_id = CAST(:product_id AS text)
  AND a.active
  AND a.day >= CAST(:lo AS date) - 27
  AND a.day < CAST(:hi AS date)
ORDER BY a.user_id
