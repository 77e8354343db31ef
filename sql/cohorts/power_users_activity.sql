-- The active days (user-initiated event) that reach into the UTC days [:lo, :hi), every
-- product at once, one row per day and product in day order: the 27 days before :lo count
-- towards L28 on the window's first days. Read by growth_assets/cohorts/histogram.py in
-- COPY's text format (Warehouse.read_frames(escaped=True)): ``d`` is the day's offset from
-- :lo, ``product`` the product id hex-encoded (UTF-8) and ``users`` the day's user ids
-- joined by spaces, each with its backslashes doubled and its spaces written as a backslash
-- and an 's', so that the ids are told apart and a space always separates two of them
-- (hex-encoding every id instead took 2.2 s against 1.4 s at 5 million events). One
-- sequential read of the window's chunks, not an index probe per row.
SELECT a.day - CAST(:lo AS date) AS d,
       encode(convert_to(a.product_id, 'UTF8'), 'hex') AS product,
       string_agg(replace(replace(a.user_id, '\', '\\'), ' ', '\s'), ' ') AS users
FROM growth.user_activity_daily AS a
WHERE a.active
  AND a.day >= CAST(:lo AS date) - 27
  AND a.day < CAST(:hi AS date)
GROUP BY a.day, a.product_id
ORDER BY a.day
