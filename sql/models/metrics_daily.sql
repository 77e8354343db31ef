-- Replace growth.metrics_daily for the days in [:window_start, :window_end) (UTC days).
-- One row per (day, product) from the product's first seen day on, zeros where nothing
-- happened, plus product_id = 'all' for the portfolio. Definitions (DESIGN.md):
--   gross_revenue / refunds   sums of revenue / refund events, reporting currency
--   active_users              distinct users with a user-initiated event that day
--   churned_customers         distinct customers with a subscription ending that day
DELETE FROM growth.metrics_daily
WHERE day >= CAST(:window_start AT TIME ZONE 'UTC' AS date)
  AND day < CAST(:window_end AT TIME ZONE 'UTC' AS date);

WITH ev AS (
    SELECT
        CAST(e.occurred_at AT TIME ZONE 'UTC' AS date) AS day,
        e.product_id,
        e.product_id || ':' || e.user_id AS who,
        e.event_type,
        t.user_initiated,
        e.value_reporting
    FROM growth.events AS e
    JOIN growth.event_types AS t USING (event_type)
    WHERE e.occurred_at >= :window_start
      AND e.occurred_at < :window_end
),
agg AS (
    SELECT
        day,
        coalesce(product_id, 'all') AS product_id,
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'revenue'), 0) AS gross_revenue,
        coalesce(sum(value_reporting) FILTER (WHERE event_type = 'refund'), 0) AS refunds,
        count(*) FILTER (WHERE event_type = 'signup') AS signups,
        count(*) FILTER (WHERE event_type = 'activation') AS activations,
        count(DISTINCT who) FILTER (WHERE event_type = 'churn') AS churned_customers,
        count(DISTINCT who) FILTER (WHERE user_initiated) AS active_users,
        count(*) FILTER (WHERE event_type = 'support_ticket_created') AS tickets_created,
        count(*) FILTER (WHERE event_type = 'support_ticket_solved') AS tickets_solved,
        count(*) AS events
    FROM ev
    GROUP BY GROUPING SETS ((day, product_id), (day))
),
products AS (
    SELECT product_id, CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date) AS first_day
    FROM growth.users
    GROUP BY product_id
    UNION ALL
    SELECT 'all', CAST(min(first_seen_at) AT TIME ZONE 'UTC' AS date)
    FROM growth.users
),
grid AS (
    SELECT CAST(d AS date) AS day, p.product_id
    FROM generate_series(
        CAST(:window_start AT TIME ZONE 'UTC' AS date),
        CAST(:window_end AT TIME ZONE 'UTC' AS date) - 1,
        interval '1 day'
    ) AS d
    JOIN products AS p ON p.first_day <= CAST(d AS date)
    UNION
    SELECT day, product_id FROM agg
)
INSERT INTO growth.metrics_daily
    (day, product_id, gross_revenue, refunds, net_revenue, signups, activations,
     churned_customers, active_users, tickets_created, tickets_solved, events)
SELECT
    g.day,
    g.product_id,
    coalesce(a.gross_revenue, 0),
    coalesce(a.refunds, 0),
    coalesce(a.gross_revenue, 0) - coalesce(a.refunds, 0),
    coalesce(a.signups, 0),
    coalesce(a.activations, 0),
    coalesce(a.churned_customers, 0),
    coalesce(a.active_users, 0),
    coalesce(a.tickets_created, 0),
    coalesce(a.tickets_solved, 0),
    coalesce(a.events, 0)
FROM grid AS g
LEFT JOIN agg AS a USING (day, product_id);
