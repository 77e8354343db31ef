-- Every configured funnel for the signup cohort starting at :start (the report's period).
SELECT funnel, product_id, step_no, step_name, users, conversion_from_first, complete
FROM analytics.funnel_conversion
WHERE cohort_grain = CAST(:grain AS text)
  AND cohort_start = :start
  AND segment = 'all'
ORDER BY product_id, funnel, step_no
