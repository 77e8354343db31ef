-- Rebuild growth.user_activity_totals whole: the replaced window held every day of
-- growth.user_activity_daily (a first load, a full backfill). TRUNCATE, not DELETE: the table
-- is refilled at once, so no dead rows are left behind for the readers' index scans.
TRUNCATE growth.user_activity_totals;

INSERT INTO growth.user_activity_totals
    (product_id, user_id, first_day, last_day, days, first_active_day, last_active_day,
     active_days, revenue, refunds)
SELECT d.product_id, d.user_id, min(d.day), max(d.day), count(*),
       min(d.day) FILTER (WHERE d.active), max(d.day) FILTER (WHERE d.active),
       count(*) FILTER (WHERE d.active), sum(d.revenue), sum(d.refunds)
FROM growth.user_activity_daily AS d
GROUP BY d.product_id, d.user_id;
