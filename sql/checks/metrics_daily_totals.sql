-- Rollup totals against the events they summarise, for one window, and the portfolio row
-- against the sum of the product rows (additive metrics only).
WITH ev AS (
    SELECT
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'revenue'), 0) AS revenue,
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'refund'), 0) AS refunds,
        count(*) FILTER (WHERE event_type = 'signup') AS signups,
        count(*) AS events
    FROM growth.events
    WHERE occurred_at >= :window_start AND occurred_at < :window_end
),
m AS (
    SELECT
        coalesce(sum(gross_revenue) FILTER (WHERE product_id <> 'all'), 0) AS revenue,
        coalesce(sum(refunds) FILTER (WHERE product_id <> 'all'), 0) AS refunds,
        coalesce(sum(signups) FILTER (WHERE product_id <> 'all'), 0) AS signups,
        coalesce(sum(events) FILTER (WHERE product_id <> 'all'), 0) AS events,
        coalesce(sum(gross_revenue) FILTER (WHERE product_id = 'all'), 0) AS all_revenue,
        coalesce(sum(events) FILTER (WHERE product_id = 'all'), 0) AS all_events,
        count(*) AS rows
    FROM growth.metrics_daily
    WHERE day >= CAST(:window_start AT TIME ZONE 'UTC' AS date)
      AND day < CAST(:window_end AT TIME ZONE 'UTC' AS date)
)
SELECT
    m.rows,
    ev.revenue AS events_revenue, m.revenue AS rollup_revenue,
    ev.refunds AS events_refunds, m.refunds AS rollup_refunds,
    ev.signups AS events_signups, m.signups AS rollup_signups,
    ev.events AS events_events, m.events AS rollup_events,
    m.all_revenue, m.all_events
FROM ev CROSS JOIN m;
