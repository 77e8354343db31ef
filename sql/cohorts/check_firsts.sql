-- The recount the cohort checks share (check_retention_triangle.sql, check_cohort_ltv.sql,
-- check_sizes_vs_users.sql), in a temporary table of the check's transaction, dropped at
-- commit: per (product, user) of growth.user_activity_daily, the first active day
-- (user-initiated event; NULL for a user with money but no activity) and the net revenue
-- (revenue - refunds) of all their days. Computed here from the activity table, not taken
-- from the cohort assets' own members (sql/cohorts/members.sql), so the checks stay an
-- independent recount; computed once, not once per check query.
-- Planned for two workers beside the leader, each aggregating part of the table: the
-- planner's default costs keep this one-pass GROUP BY serial, which took 14.0-14.6 s
-- instead of 9.1-10.5 s at 20 million events (same rows). Only this statement: the costs
-- return to the session's right after it.
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;

CREATE TEMP TABLE check_firsts ON COMMIT DROP AS
SELECT product_id, user_id,
       min(day) FILTER (WHERE active) AS first_day,
       -- summed over the days with money only (most have none): 2.5 s instead of 3.7 s at
       -- 5 million events; 0 for a user without any
       coalesce(sum(revenue - refunds) FILTER (WHERE revenue <> 0 OR refunds <> 0), 0) AS net
FROM growth.user_activity_daily
GROUP BY product_id, user_id;

SET LOCAL parallel_setup_cost TO DEFAULT;
SET LOCAL parallel_tuple_cost TO DEFAULT;

ANALYZE check_firsts;
