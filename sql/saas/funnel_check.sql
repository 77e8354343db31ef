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
    FROM rows AS a
    JOIN rows AS b
        ON b.cohort_grain = a.cohort_grain AND b.cohort_start = a.cohort_start
       AND b.product_id = a.product_id AND b.segment = a.segment
       AND b.segment_value = a.segment_value AND b.step_no = a.step_no + 1
    WHERE b.users > a.users
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
