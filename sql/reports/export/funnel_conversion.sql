-- Export: funnels of the signup cohorts starting in the report period.
SELECT * FROM analytics.funnel_conversion
WHERE cohort_start >= :start AND cohort_start < :end
ORDER BY funnel, cohort_grain, cohort_start, product_id, segment, segment_value, step_no
