-- The distinct user identifiers growth.subscriptions takes from one window of raw Stripe
-- subscriptions (sql/models/upsert_subscriptions.sql): the customer id and metadata.user_id.
SELECT DISTINCT i.identifier
FROM raw.stripe_subscriptions AS r
CROSS JOIN LATERAL (
    VALUES (r.payload ->> 'customer'), (r.payload #>> '{metadata,user_id}')
) AS i (identifier)
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end
  AND nullif(trim(i.identifier), '') IS NOT NULL;
