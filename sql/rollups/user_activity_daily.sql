-- Replace growth.user_activity_daily for the UTC days in [:window_start, :window_end): one row
-- per (day, product, user) with any event. The flags use the same predicates as the metric
-- list (growth_assets/rollups/metrics.py; tests/test_rollup_sql.py checks they agree):
--   active = a user-initiated event, paid = a revenue event, churned = a churn event.
DELETE FROM growth.user_activity_daily
WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
  AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date);

INSERT INTO growth.user_activity_daily
    (day, product_id, user_id, events, user_events, revenue, refunds,
     active, signed_up, activated, paid, churned)
SELECT
    CAST(e.occurred_at AT TIME ZONE 'UTC' AS date) AS day,
    e.product_id,
    e.user_id,
    count(*),
    count(*) FILTER (WHERE t.user_initiated),
    coalesce(sum(e.value_reporting) FILTER (WHERE e.event_type IN ('revenue')), 0),
    coalesce(sum(e.value_reporting) FILTER (WHERE e.event_type IN ('refund')), 0),
    coalesce(bool_or(t.user_initiated), false) AS active,
    coalesce(bool_or(e.event_type IN ('signup')), false) AS signed_up,
    coalesce(bool_or(e.event_type IN ('activation')), false) AS activated,
    coalesce(bool_or(e.event_type IN ('revenue')), false) AS paid,
    coalesce(bool_or(e.event_type IN ('churn')), false) AS churned
FROM growth.events AS e
JOIN growth.event_types AS t ON t.event_type = e.event_type
WHERE e.occurred_at >= :window_start
  AND e.occurred_at < :window_end
GROUP BY 1, 2, 3
ORDER BY 1;
