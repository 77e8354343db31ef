-- Cohort sizes against the users table, per product: for every (grain, product, cohort) of
-- growth.retention_triangle (its 'all' segment) or growth.cohort_ltv (:relation says which),
-- the cohort size equals the number of growth.users rows of the product whose first active day
-- (growth.user_activity_daily.active) falls in the cohort period. A cohort member missing from
-- growth.users, or a user of growth.users active in a cohort the table lacks, is a mismatch.
-- One row per product ('all' = every product), with the cohorts compared, the mismatches, the
-- monthly cohorts' total size on each side and a sample of the mismatching cohorts.
WITH sizes AS (
    SELECT grain, product_id, cohort, cohort_size
    FROM growth.retention_triangle
    WHERE CAST(:relation AS text) = 'retention_triangle'
      AND segment_type = 'all' AND period_offset = 0
    UNION ALL
    SELECT grain, product_id, cohort, max(cohort_size)
    FROM growth.cohort_ltv
    WHERE CAST(:relation AS text) = 'cohort_ltv'
    GROUP BY grain, product_id, cohort
),
firsts AS (
    -- first active days recounted by sql/cohorts/check_firsts.sql (run first)
    SELECT f.product_id, f.user_id, f.first_day
    FROM growth.users AS u
    JOIN check_firsts AS f ON f.product_id = u.product_id AND f.user_id = u.user_id
    WHERE f.first_day IS NOT NULL
),
users_table AS (
    SELECT grain, coalesce(product_id, 'all') AS product_id, cohort, count(*) AS users
    FROM (
        SELECT g.grain, f.product_id,
               CAST(date_trunc(g.grain, CAST(f.first_day AS timestamp)) AS date) AS cohort
        FROM firsts AS f CROSS JOIN (VALUES ('week'), ('month')) AS g(grain)
    ) AS c
    GROUP BY GROUPING SETS ((grain, product_id, cohort), (grain, cohort))
),
compared AS (
    SELECT grain, product_id, cohort, s.cohort_size, u.users,
           s.cohort_size IS DISTINCT FROM u.users AS mismatch
    FROM sizes AS s FULL JOIN users_table AS u USING (grain, product_id, cohort)
)
SELECT
    product_id,
    count(*) AS cohorts,
    count(*) FILTER (WHERE mismatch) AS mismatches,
    coalesce(sum(cohort_size) FILTER (WHERE grain = 'month'), 0) AS cohort_users,
    coalesce(sum(users) FILTER (WHERE grain = 'month'), 0) AS users_table_users,
    (array_agg(
        grain || ' ' || CAST(cohort AS text) || ': size '
        || coalesce(CAST(cohort_size AS text), 'none') || ', growth.users '
        || coalesce(CAST(users AS text), 'none')
        ORDER BY grain, cohort
    ) FILTER (WHERE mismatch))[1:5] AS sample
FROM compared
GROUP BY product_id
ORDER BY product_id;
