-- Funnel consistency for :funnel over the cohorts rebuilt: step counts never increase from a
-- step to the next; every segment's users of step 1 add up to the 'all' segment; the 'all'
-- product equals the sum of the products.
WITH rows AS (
    SELECT *
    FROM growth.funnel_conversion
    WHERE funnel = CAST(:funnel AS text)
      AND ((cohort_grain = 'week' AND cohort_start >= CAST(:week_start AS date)
            AND cohort_start < CAST(:week_end AS date))
        OR (cohort_grain = 'month' AND cohort_start >= CAST(:month_start AS date)
            AND cohort_start < CAST(:month_end AS date)))
),
increasing AS (
    SELECT count(*) AS n
    FROM (
        SELECT step_no, users,
               lag(step_no) OVER w AS previous_step,
               lag(users) OVER w AS previous_users
        FROM rows
        WINDOW w AS (PARTITION BY cohort_grain, cohort_start, product_id, segment,
                                  segment_value
                     ORDER BY step_no)
    ) AS steps
    WHERE steps.step_no = steps.previous_step + 1 AND steps.users > steps.previous_users
),
segments AS (
    SELECT count(*) AS n
    FROM (
        SELECT cohort_grain, cohort_start, product_id, step_no,
               sum(users) FILTER (WHERE segment = 'all') AS total,
               sum(users) FILTER (WHERE segment = 'channel') AS channels,
               sum(users) FILTER (WHERE segment = 'country') AS countries
        FROM rows
        GROUP BY 1, 2, 3, 4
    ) AS s
    WHERE s.total IS DISTINCT FROM s.channels OR s.total IS DISTINCT FROM s.countries
),
products AS (
    SELECT count(*) AS n
    FROM (
        SELECT cohort_grain, cohort_start, segment, segment_value, step_no,
               sum(users) FILTER (WHERE product_id = 'all') AS total,
               sum(users) FILTER (WHERE product_id <> 'all') AS parts
        FROM rows
        GROUP BY 1, 2, 3, 4, 5
    ) AS p
    WHERE p.total IS DISTINCT FROM p.parts
)
SELECT (SELECT count(*) FROM rows) AS rows,
       (SELECT n FROM increasing) AS increasing,
       (SELECT n FROM segments) AS segment_mismatches,
       (SELECT n FROM products) AS product_mismatches;
