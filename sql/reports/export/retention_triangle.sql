-- Export: the retention cells observed in the report period (every cohort and segment).
SELECT * FROM analytics.retention_triangle
WHERE period >= :start AND period < :end
ORDER BY grain, product_id, segment_type, segment, cohort, period_offset
