-- Stripe refunds → refund events (positive amounts). Refunds often carry no metadata, so the
-- product and user come from the refunded charge when the refund itself lacks them.
-- An amount that is not a JSON number (a string, null) is rejected with that reason rather
-- than failing the whole window's cast.
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type,
     value_minor, currency, properties, payload, reject_reason)
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
    CASE WHEN jsonb_typeof(r.payload -> 'amount') = 'number'
         THEN CAST(r.payload ->> 'amount' AS numeric) END,
    r.payload ->> 'currency',
    jsonb_build_object('charge', r.payload ->> 'charge'),
    r.payload,
    CASE WHEN jsonb_typeof(r.payload -> 'amount') IS DISTINCT FROM 'number'
         THEN 'amount ' || coalesce(r.payload ->> 'amount', 'null') || ' is not a number ('
              || coalesce(jsonb_typeof(r.payload -> 'amount'), 'missing') || ')'
    END
FROM raw.stripe_refunds AS r
LEFT JOIN raw.stripe_charges AS c ON c.id = r.payload ->> 'charge'
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end
  AND r.payload ->> 'status' = 'succeeded';
