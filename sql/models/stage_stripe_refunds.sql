-- Stripe refunds → refund events (positive amounts). Refunds often carry no metadata, so the
-- product and user come from the refunded charge when the refund itself lacks them.
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type,
     value_minor, currency, properties, payload)
SELECT
    r.id,
    r.occurred_at,
    coalesce(r.payload #>> '{metadata,product_id}', c.payload #>> '{metadata,product_id}'),
    coalesce(
        r.payload #>> '{metadata,user_id}',
        c.payload #>> '{metadata,user_id}',
        c.payload ->> 'customer'
    ),
    'refund.' || coalesce(r.payload ->> 'status', 'unknown'),
    'refund',
    CAST(r.payload ->> 'amount' AS numeric),
    r.payload ->> 'currency',
    jsonb_build_object('charge', r.payload ->> 'charge'),
    r.payload
FROM raw.stripe_refunds AS r
LEFT JOIN raw.stripe_charges AS c ON c.id = r.payload ->> 'charge'
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end
  AND r.payload ->> 'status' = 'succeeded';
