-- growth.funnel_conversion for :funnel, for the week cohorts in [:week_start, :week_end) and
-- the month cohorts in [:month_start, :month_end) (dates), from growth.funnel_users. Per
-- cohort, product (and 'all') and segment (all, channel, country): users reaching each of the
-- :step_count steps (:step_names), conversion and drop-off.
DELETE FROM growth.funnel_conversion
WHERE funnel = CAST(:funnel AS text)
  AND ((cohort_grain = 'week' AND cohort_start >= CAST(:week_start AS date)
        AND cohort_start < CAST(:week_end AS date))
    OR (cohort_grain = 'month' AND cohort_start >= CAST(:month_start AS date)
        AND cohort_start < CAST(:month_end AS date)));

WITH grains AS (
    SELECT 'week' AS grain,
           CAST(CAST(:week_start AS timestamp) AT TIME ZONE 'UTC' AS timestamptz) AS lo,
           CAST(CAST(:week_end AS timestamp) AT TIME ZONE 'UTC' AS timestamptz) AS hi
    UNION ALL
    SELECT 'month',
           CAST(CAST(:month_start AS timestamp) AT TIME ZONE 'UTC' AS timestamptz),
           CAST(CAST(:month_end AS timestamp) AT TIME ZONE 'UTC' AS timestamptz)
),
reached AS (
    SELECT g.grain,
           CAST(date_trunc(g.grain, f.first_step_at AT TIME ZONE 'UTC') AS date) AS cohort_start,
           f.product_id, f.channel, f.country, f.steps_reached, count(*) AS users
    FROM growth.funnel_users AS f
    JOIN grains AS g ON f.first_step_at >= g.lo AND f.first_step_at < g.hi
    WHERE f.funnel = CAST(:funnel AS text)
    GROUP BY 1, 2, 3, 4, 5, 6
),
expanded AS (
    -- per cohort, product (and 'all'), segment and steps reached: summed before the steps
    -- are crossed in, so the step counts aggregate a fraction of the rows
    SELECT r.grain, r.cohort_start, p.product_id, sg.segment, sg.segment_value,
           r.steps_reached, sum(r.users) AS users
    FROM reached AS r
    CROSS JOIN LATERAL (VALUES (r.product_id), ('all')) AS p (product_id)
    CROSS JOIN LATERAL (VALUES ('all', 'all'), ('channel', r.channel), ('country', r.country))
        AS sg (segment, segment_value)
    GROUP BY 1, 2, 3, 4, 5, 6
),
counts AS (
    SELECT x.grain, x.cohort_start, x.product_id, x.segment, x.segment_value, s.step_no,
           coalesce(sum(x.users) FILTER (WHERE x.steps_reached >= s.step_no), 0) AS users,
           coalesce(sum(x.users) FILTER (WHERE x.steps_reached >= greatest(s.step_no - 1, 1)),
                    0) AS users_previous_step,
           sum(x.users) AS users_first_step
    FROM expanded AS x
    CROSS JOIN generate_series(1, CAST(:step_count AS integer)) AS s (step_no)
    GROUP BY 1, 2, 3, 4, 5, 6
)
INSERT INTO growth.funnel_conversion (
    funnel, cohort_grain, cohort_start, product_id, segment, segment_value, step_no,
    step_name, users, users_previous_step, users_first_step, conversion_from_previous,
    conversion_from_first, drop_off, drop_off_rate, conversion_window
)
SELECT
    CAST(:funnel AS text), c.grain, c.cohort_start, c.product_id, c.segment, c.segment_value,
    c.step_no, (CAST(:step_names AS text[]))[c.step_no],
    c.users, c.users_previous_step, c.users_first_step,
    round(c.users / nullif(c.users_previous_step, 0), 6),
    round(c.users / nullif(c.users_first_step, 0), 6),
    c.users_previous_step - c.users,
    round((c.users_previous_step - c.users) / nullif(c.users_previous_step, 0), 6),
    CAST(:window_days AS integer) * interval '1 day'
FROM counts AS c;
