-- growth.mrr_customer_monthly for the months [:range_start, :range_end) (first days of UTC
-- months), from the subscription events of growth.events. Parameters: :range_start,
-- :range_end, :reporting_currency.
--
-- A subscription's MRR timeline: each subscription_started / subscription_changed event sets
-- its MRR to the event's value (DESIGN.md "MRR", computed by growth.stripe_subscription_list_mrr
-- at normalisation: trials and non-paying statuses are 0); a churn event sets it to 0. Events
-- of one subscription at the same instant apply in the order started, changed, churn, then by
-- source id. The MRR "at" a month boundary T is the state after every event before T.
-- A customer's start MRR of month M is the sum at T = M, its end MRR the sum at T = M + 1
-- month, both converted at M's rate (the latest growth.fx_rates day before M + 1 month), so a
-- change of rate is never a movement (growth.mrr_monthly.fx_adjustment shows it).
-- No JIT: the planner's estimates (generate_series, jsonb) make these plans look costly enough
-- to compile, which took 15 s of a 26 s run at demo scale and saves nothing here.
SET LOCAL jit = off;

DELETE FROM growth.mrr_customer_monthly
WHERE month >= CAST(:range_start AS date)
  AND month < CAST(:range_end AS date);

WITH sub_events AS (
    SELECT
        e.product_id,
        e.user_id AS customer_id,
        e.properties ->> 'subscription' AS subscription_id,
        e.occurred_at AT TIME ZONE 'UTC' AS at,
        CASE WHEN e.event_type = 'churn' THEN 0 ELSE coalesce(e.value, 0) END AS mrr,
        e.currency,
        CASE e.event_type WHEN 'subscription_started' THEN 1
                          WHEN 'subscription_changed' THEN 2 ELSE 3 END AS ord,
        e.source_id
    FROM growth.events AS e
    WHERE e.event_type IN ('subscription_started', 'subscription_changed', 'churn')
      AND e.occurred_at < CAST(CAST(:range_end AS timestamp) AT TIME ZONE 'UTC' AS timestamptz)
),
segments AS (
    SELECT
        s.*,
        lead(s.at) OVER (PARTITION BY s.subscription_id
                         ORDER BY s.at, s.ord, s.source_id) AS until
    FROM sub_events AS s
),
paying AS (
    SELECT * FROM segments WHERE mrr > 0
),
first_paid AS (
    SELECT product_id, customer_id, min(date_trunc('month', at) + interval '1 month') AS t
    FROM paying
    WHERE until IS NULL OR date_trunc('month', at) + interval '1 month' <= until
    GROUP BY product_id, customer_id
),
snap AS (
    SELECT p.product_id, p.customer_id, p.subscription_id, p.currency, p.mrr, g.t
    FROM paying AS p
    CROSS JOIN LATERAL generate_series(
        greatest(date_trunc('month', p.at) + interval '1 month', CAST(:range_start AS timestamp)),
        least(coalesce(date_trunc('month', p.until), CAST(:range_end AS timestamp)),
              CAST(:range_end AS timestamp)),
        interval '1 month'
    ) AS g (t)
),
months AS (
    SELECT CAST(m AS date) AS month
    FROM generate_series(CAST(:range_start AS timestamp),
                         CAST(:range_end AS timestamp) - interval '1 month',
                         interval '1 month') AS m
),
rates AS (
    SELECT m.month, c.currency,
           CASE WHEN c.currency = CAST(:reporting_currency AS text) THEN 1 ELSE fx.rate END
               AS rate
    FROM months AS m
    CROSS JOIN (SELECT DISTINCT currency FROM snap) AS c
    LEFT JOIN LATERAL (
        SELECT f.rate
        FROM growth.fx_rates AS f
        WHERE f.reporting_currency = CAST(:reporting_currency AS text)
          AND f.currency = c.currency
          AND f.day < m.month + interval '1 month'
        ORDER BY f.day DESC
        LIMIT 1
    ) AS fx ON true
),
customer_month AS (
    SELECT
        m.month,
        s.product_id,
        s.customer_id,
        round(coalesce(sum(s.mrr * r.rate) FILTER (WHERE s.t = m.month), 0), 6) AS start_mrr,
        round(coalesce(sum(s.mrr * r.rate) FILTER (WHERE s.t > m.month), 0), 6) AS end_mrr,
        count(*) FILTER (WHERE s.t > m.month) AS subscriptions_end
    FROM months AS m
    JOIN snap AS s
        ON s.t IN (CAST(m.month AS timestamp), CAST(m.month AS timestamp) + interval '1 month')
    JOIN rates AS r ON r.month = m.month AND r.currency = s.currency
    GROUP BY m.month, s.product_id, s.customer_id
),
classified AS (
    SELECT
        c.*,
        CASE
            WHEN c.start_mrr = 0 AND c.end_mrr > 0
                 AND fp.t < CAST(c.month AS timestamp) THEN 'reactivation'
            WHEN c.start_mrr = 0 AND c.end_mrr > 0 THEN 'new'
            WHEN c.start_mrr > 0 AND c.end_mrr = 0 THEN 'churn'
            WHEN c.end_mrr > c.start_mrr THEN 'expansion'
            WHEN c.end_mrr < c.start_mrr THEN 'contraction'
            ELSE 'none'
        END AS movement
    FROM customer_month AS c
    JOIN first_paid AS fp ON fp.product_id = c.product_id AND fp.customer_id = c.customer_id
)
INSERT INTO growth.mrr_customer_monthly (
    month, product_id, customer_id, start_mrr, end_mrr, movement, new_mrr, expansion_mrr,
    contraction_mrr, churned_mrr, reactivation_mrr, subscriptions_end
)
SELECT
    month, product_id, customer_id, start_mrr, end_mrr, movement,
    CASE WHEN movement = 'new' THEN end_mrr ELSE 0 END,
    CASE WHEN movement = 'expansion' THEN end_mrr - start_mrr ELSE 0 END,
    CASE WHEN movement = 'contraction' THEN start_mrr - end_mrr ELSE 0 END,
    CASE WHEN movement = 'churn' THEN start_mrr ELSE 0 END,
    CASE WHEN movement = 'reactivation' THEN end_mrr ELSE 0 END,
    subscriptions_end
FROM classified;
