-- Stripe subscription lifecycle events → subscription_started / subscription_changed / churn.
-- The value is the subscription's MRR in minor units: price × quantity normalised to a month
-- (year / 12, week × 52 / 12, day × 365 / 12, divided by interval_count), reduced by a
-- "forever" coupon; trials and other non-paying statuses count 0. For churn it is the MRR the
-- subscription had when it ended.
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type,
     value_minor, currency, properties, payload)
SELECT
    r.id,
    r.occurred_at,
    s.sub #>> '{metadata,product_id}',
    coalesce(s.sub #>> '{metadata,user_id}', s.sub ->> 'customer'),
    r.payload ->> 'type',
    CASE r.payload ->> 'type'
        WHEN 'customer.subscription.created' THEN 'subscription_started'
        WHEN 'customer.subscription.updated' THEN 'subscription_changed'
        WHEN 'customer.subscription.deleted' THEN 'churn'
    END,
    CASE
        WHEN r.payload ->> 'type' = 'customer.subscription.deleted'
            OR s.sub ->> 'status' IN ('active', 'past_due')
            THEN round(m.mrr * (1 - coalesce(d.percent_off, 0) / 100), 6)
        ELSE 0
    END,
    s.sub ->> 'currency',
    jsonb_build_object(
        'subscription', s.sub ->> 'id',
        'customer', s.sub ->> 'customer',
        'status', s.sub ->> 'status',
        'previous_attributes', r.payload #> '{data,previous_attributes}'
    ),
    r.payload
FROM raw.stripe_events AS r
CROSS JOIN LATERAL (SELECT r.payload #> '{data,object}' AS sub) AS s
CROSS JOIN LATERAL (
    SELECT sum(
        CAST(i #>> '{price,unit_amount}' AS numeric)
        * coalesce(CAST(i ->> 'quantity' AS numeric), 1)
        * CASE i #>> '{price,recurring,interval}'
            WHEN 'month' THEN 1.0
            WHEN 'year' THEN 1.0 / 12
            WHEN 'week' THEN 52.0 / 12
            WHEN 'day' THEN 365.0 / 12
          END
        / coalesce(CAST(i #>> '{price,recurring,interval_count}' AS numeric), 1)
    ) AS mrr
    FROM jsonb_array_elements(coalesce(s.sub #> '{items,data}', '[]'::jsonb)) AS i
) AS m
LEFT JOIN LATERAL (
    SELECT CAST(s.sub #>> '{discount,coupon,percent_off}' AS numeric) AS percent_off
    WHERE s.sub #>> '{discount,coupon,duration}' = 'forever'
) AS d ON true
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end;
