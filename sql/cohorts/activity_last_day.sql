-- The last day with activity data (any row of growth.user_activity_daily): the periods
-- elapsed of every cohort count up to its period.
SELECT max(day) AS last_day FROM growth.user_activity_daily
