-- Rebuild growth.retention_triangle for one grain (:grain = 'week' or 'month') from
-- cohort_members (sql/cohorts/members.sql) and growth.user_activity_daily. Any day's
-- activity can move a user's cohort and every unbounded cell of its cohort, so the whole
-- triangle of the grain is rebuilt in the run's transaction.
--
-- Cohort = the period of a member's first activity; cell (cohort, k): members active in
-- period cohort + k (N-period). last_active_users counts the members whose last active
-- period is cohort + k: the views sum it from k on to get unbounded retention (active in
-- period k or later). Rows only where one of the two counts is not 0 (offset 0 always is).
-- Segments: all, channel, country, plan (members.sql); 'all' products = the sum.
-- Hash joins: the planner's merge joins sorted the members' activity and the counted cells on
-- text keys (measured slower at the design scale, as in growth_accounting.sql).
SET LOCAL work_mem = '64MB';
SET LOCAL enable_mergejoin = off;

DELETE FROM growth.retention_triangle WHERE grain = CAST(:grain AS text);

WITH bounds AS (
    SELECT CAST(date_trunc(CAST(:grain AS text), CAST(max(day) AS timestamp)) AS date) AS last
    FROM growth.user_activity_daily
),
members AS (
    SELECT product_id, user_id, channel, country,
           CASE WHEN CAST(:grain AS text) = 'week' THEN week_plan ELSE month_plan END AS plan,
           CAST(date_trunc(CAST(:grain AS text), CAST(first_day AS timestamp)) AS date) AS cohort,
           CAST(date_trunc(CAST(:grain AS text), CAST(last_day AS timestamp)) AS date)
               AS last_period
    FROM cohort_members
),
periods AS (
    SELECT product_id, user_id,
           CAST(date_trunc(CAST(:grain AS text), CAST(day AS timestamp)) AS date) AS period
    FROM growth.user_activity_daily
    WHERE active
    GROUP BY 1, 2, 3
),
cells AS (
    SELECT m.product_id, m.channel, m.country, m.plan, m.cohort, p.period, 1 AS active, 0 AS last
    FROM periods AS p
    JOIN members AS m USING (product_id, user_id)
    UNION ALL
    SELECT product_id, channel, country, plan, cohort, last_period, 0, 1
    FROM members
),
offsets AS (
    SELECT c.product_id, c.channel, c.country, c.plan, c.cohort, c.active, c.last,
           CASE WHEN CAST(:grain AS text) = 'week' THEN (c.period - c.cohort) / 7
                ELSE CAST((extract(year FROM c.period) - extract(year FROM c.cohort)) * 12
                          + extract(month FROM c.period) - extract(month FROM c.cohort)
                          AS integer)
           END AS k
    FROM cells AS c
),
segmented AS (
    SELECT o.product_id, s.segment_type, s.segment, o.cohort, o.k, o.active, o.last
    FROM offsets AS o
    CROSS JOIN LATERAL (
        VALUES ('all', 'all'), ('channel', o.channel), ('country', o.country), ('plan', o.plan)
    ) AS s(segment_type, segment)
),
counted AS (
    SELECT coalesce(product_id, 'all') AS product_id, segment_type, segment, cohort, k,
           sum(active) AS active, sum(last) AS last
    FROM segmented
    GROUP BY GROUPING SETS ((product_id, segment_type, segment, cohort, k),
                            (segment_type, segment, cohort, k))
),
sizes AS (
    SELECT product_id, segment_type, segment, cohort, active AS cohort_size
    FROM counted
    WHERE k = 0
)
INSERT INTO growth.retention_triangle
    (grain, product_id, segment_type, segment, cohort, period_offset, cohort_size,
     periods_elapsed, active_users, last_active_users)
SELECT
    CAST(:grain AS text),
    c.product_id,
    c.segment_type,
    c.segment,
    c.cohort,
    c.k,
    s.cohort_size,
    CASE WHEN CAST(:grain AS text) = 'week' THEN (b.last - c.cohort) / 7
         ELSE CAST((extract(year FROM b.last) - extract(year FROM c.cohort)) * 12
                   + extract(month FROM b.last) - extract(month FROM c.cohort) AS integer)
    END,
    c.active,
    c.last
FROM counted AS c
JOIN sizes AS s USING (product_id, segment_type, segment, cohort)
CROSS JOIN bounds AS b;
