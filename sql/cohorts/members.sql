-- The cohort members of this run, in a temporary table dropped at commit: one row per
-- (product, user) ever active (user-initiated event, growth.user_activity_daily.active),
-- with the first and last active day (from growth.user_activity_totals, kept by the activity
-- rollup) and the segment attributes. member_no numbers them,
-- so the retention triangle (growth_assets/cohorts/triangle.py) reads integers, not
-- (product, user) text keys, for every active day.
--   channel, country: growth.users (the signup attributes); 'unknown' when missing.
--   week_plan / month_plan: the plan (first item's price id) of the user's earliest
--   subscription in the product that was in force at some time during the cohort week /
--   month (created before the period ends, not ended before it starts); 'none' without one.
--   growth.subscriptions holds each subscription's latest state, so a plan changed later
--   reads as the new plan.
CREATE TEMP TABLE cohort_members (
    member_no  integer GENERATED ALWAYS AS IDENTITY,
    product_id text NOT NULL,
    user_id    text NOT NULL,
    first_day  date NOT NULL,
    last_day   date NOT NULL,
    channel    text NOT NULL,
    country    text NOT NULL,
    week_plan  text NOT NULL,
    month_plan text NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

INSERT INTO cohort_members
    (product_id, user_id, first_day, last_day, channel, country, week_plan, month_plan)
WITH m AS (
    SELECT product_id, user_id, first_active_day AS first_day, last_active_day AS last_day
    FROM growth.user_activity_totals
    WHERE first_active_day IS NOT NULL
),
spans AS (
    SELECT m.product_id, m.user_id, g.grain,
           date_trunc(g.grain, CAST(m.first_day AS timestamp)) AT TIME ZONE 'UTC' AS starts,
           (date_trunc(g.grain, CAST(m.first_day AS timestamp)) + CAST('1 ' || g.grain AS interval))
               AT TIME ZONE 'UTC' AS ends
    FROM m CROSS JOIN (VALUES ('week'), ('month')) AS g(grain)
),
plans AS (
    SELECT DISTINCT ON (p.product_id, p.user_id, p.grain)
           p.product_id, p.user_id, p.grain,
           coalesce(s.items -> 0 ->> 'price_id', 'unknown') AS plan
    FROM spans AS p
    JOIN growth.subscriptions AS s
        ON s.product_id = p.product_id AND s.user_id = p.user_id
       AND s.created_at < p.ends
       AND (s.ended_at IS NULL OR s.ended_at >= p.starts)
    ORDER BY p.product_id, p.user_id, p.grain, s.created_at, s.subscription_id
)
SELECT
    m.product_id,
    m.user_id,
    m.first_day,
    m.last_day,
    coalesce(u.channel, 'unknown'),
    coalesce(u.country, 'unknown'),
    coalesce(pw.plan, 'none'),
    coalesce(pm.plan, 'none')
FROM m
LEFT JOIN growth.users AS u USING (product_id, user_id)
LEFT JOIN plans AS pw
    ON pw.product_id = m.product_id AND pw.user_id = m.user_id AND pw.grain = 'week'
LEFT JOIN plans AS pm
    ON pm.product_id = m.product_id AND pm.user_id = m.user_id AND pm.grain = 'month';

-- Temporary tables are never analysed automatically: without statistics the planner took
-- the members for a third of their number and chose per-member index probes.
ANALYZE cohort_members;
