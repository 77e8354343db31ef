-- growth.user_activity_daily against the events it summarises, for one window: events,
-- revenue and refunds, and the (product, user, day) triples with any event.
WITH ev AS (
    SELECT
        count(*) AS events,
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'revenue'), 0) AS revenue,
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'refund'), 0) AS refunds,
        count(DISTINCT (CAST(occurred_at AT TIME ZONE 'UTC' AS date), product_id, user_id))
            AS user_days
    FROM growth.events
    WHERE occurred_at >= :window_start AND occurred_at < :window_end
),
a AS (
    SELECT
        coalesce(sum(events), 0) AS events,
        coalesce(sum(revenue), 0) AS revenue,
        coalesce(sum(refunds), 0) AS refunds,
        count(*) AS user_days
    FROM growth.user_activity_daily
    WHERE day >= CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
      AND day < CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
)
SELECT
    ev.events AS events_events, a.events AS activity_events,
    ev.revenue AS events_revenue, a.revenue AS activity_revenue,
    ev.refunds AS events_refunds, a.refunds AS activity_refunds,
    ev.user_days AS events_user_days, a.user_days AS activity_user_days
FROM ev CROSS JOIN a;
