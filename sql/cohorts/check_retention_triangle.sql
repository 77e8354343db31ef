-- growth.retention_triangle: cohort sizes ('all' segment) equal the users whose first active
-- day falls in the cohort period (recounted here from growth.user_activity_daily); no cell
-- exceeds its cohort; each segment type splits the cohort exactly; last-active counts sum to
-- the cohort size; 'all' products = the sum of the products. The first active days come
-- from check_firsts (sql/cohorts/check_firsts.sql, run first).
WITH t AS (SELECT * FROM growth.retention_triangle),
firsts AS (
    SELECT product_id, user_id, first_day FROM check_firsts WHERE first_day IS NOT NULL
),
recount AS (
    SELECT grain, coalesce(product_id, 'all') AS product_id, cohort, count(*) AS size
    FROM (
        SELECT g.grain, f.product_id,
               CAST(date_trunc(g.grain, CAST(f.first_day AS timestamp)) AS date) AS cohort
        FROM firsts AS f CROSS JOIN (VALUES ('week'), ('month')) AS g(grain)
    ) AS c
    GROUP BY GROUPING SETS ((grain, product_id, cohort), (grain, cohort))
),
sizes AS (
    SELECT grain, product_id, cohort, cohort_size
    FROM t WHERE segment_type = 'all' AND period_offset = 0
),
splits AS (
    SELECT grain, product_id, segment_type, cohort, sum(cohort_size) AS size
    FROM t WHERE period_offset = 0 GROUP BY 1, 2, 3, 4
),
lasts AS (
    SELECT grain, product_id, segment_type, segment, cohort,
           sum(last_active_users) AS last, max(cohort_size) AS size
    FROM t GROUP BY 1, 2, 3, 4, 5
),
products AS (
    SELECT grain, segment_type, segment, cohort, period_offset,
           sum(active_users) FILTER (WHERE product_id <> 'all') AS summed,
           max(active_users) FILTER (WHERE product_id = 'all') AS portfolio
    FROM t GROUP BY 1, 2, 3, 4, 5
)
SELECT
    (SELECT count(*) FROM t) AS rows,
    (SELECT count(*) FROM sizes FULL JOIN recount USING (grain, product_id, cohort)
     WHERE sizes.cohort_size IS DISTINCT FROM recount.size) AS size_mismatches,
    (SELECT count(*) FROM t WHERE active_users > cohort_size OR active_users < 0)
        AS cells_over_size,
    (SELECT count(*) FROM splits JOIN sizes USING (grain, product_id, cohort)
     WHERE splits.size <> sizes.cohort_size) AS split_mismatches,
    (SELECT count(*) FROM lasts WHERE last <> size) AS last_mismatches,
    (SELECT count(*) FROM products WHERE summed IS DISTINCT FROM portfolio) AS all_mismatches;
