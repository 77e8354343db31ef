-- Per (product, user), what the days of [:window_start, :window_end) of
-- growth.user_activity_daily add to their totals, in a temporary table {{target}} dropped at
-- commit. Run before the window is replaced (what it added) and after (what it adds now);
-- sql/rollups/user_activity_totals_window.sql then moves the totals from one to the other.
CREATE TEMP TABLE {{target}} ON COMMIT DROP AS
SELECT product_id, user_id,
       min(day) AS first_day, max(day) AS last_day, count(*) AS days,
       min(day) FILTER (WHERE active) AS first_active_day,
       max(day) FILTER (WHERE active) AS last_active_day,
       count(*) FILTER (WHERE active) AS active_days,
       sum(revenue) AS revenue, sum(refunds) AS refunds
FROM growth.user_activity_daily
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
GROUP BY product_id, user_id;
