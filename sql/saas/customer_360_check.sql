-- customer_360 covers growth.users exactly once each, and its lifetime revenue equals the
-- revenue of growth.user_activity_daily up to as_of.
-- as_of is joined, not compared through a scalar subquery: a filter on the hypertable that
-- references an InitPlan parameter can be planned as a parallel ChunkAppend, which
-- TimescaleDB runs wrongly (no rows; timescale/timescaledb#10503, seen here on 2.19.3): at
-- the design scale it summed 0 and failed this check on a correct table.
-- Only the days with revenue are joined with the users (the sum is the same): the join of
-- every day took 12.7 s at 20 million events, 3.3 s so.
WITH as_of AS (
    SELECT coalesce(max(as_of), current_date) AS day FROM growth.customer_360
)
SELECT
    (SELECT count(*) FROM growth.customer_360) AS rows,
    (SELECT count(*) FROM growth.users) AS users,
    (SELECT coalesce(sum(lifetime_revenue), 0) FROM growth.customer_360) AS revenue,
    (SELECT coalesce(sum(a.revenue), 0)
     FROM growth.user_activity_daily AS a
     JOIN growth.users AS u ON u.product_id = a.product_id AND u.user_id = a.user_id
     CROSS JOIN as_of AS o
     WHERE a.day <= o.day AND a.revenue <> 0) AS activity_revenue,
    (SELECT max(as_of) FROM growth.customer_360) AS as_of,
    (SELECT count(*) FILTER (WHERE health_band = 'at_risk') FROM growth.customer_360) AS at_risk;
