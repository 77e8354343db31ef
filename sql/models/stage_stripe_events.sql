-- Stripe subscription lifecycle events → subscription_started / subscription_changed / churn.
-- The value is the subscription's MRR in minor units, computed by the same SQL function as
-- growth.subscriptions (migration 0005): price × quantity normalised to a month (year / 12,
-- week × 52 / 12, day × 365 / 12, divided by interval_count), metered items excluded, reduced
-- by a "forever" coupon; trials and other non-paying statuses count 0. For churn it is the MRR
-- the subscription had when it ended.
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
            THEN growth.stripe_subscription_list_mrr(s.sub)
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
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end;
