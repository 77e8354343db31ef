-- Stripe charges → revenue events. Only succeeded charges are revenue; failed and pending
-- charges collected no money and produce no event. Amounts stay in minor units here; the
-- shared load divides by the currency's Stripe exponent (JPY and other zero-decimal: 1).
-- An amount that is not a JSON number (a string, null) is rejected with that reason rather
-- than failing the whole window's cast.
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type,
     value_minor, currency, properties, payload, reject_reason)
SELECT
    r.id,
    r.occurred_at,
    r.payload #>> '{metadata,product_id}',
    coalesce(r.payload #>> '{metadata,user_id}', r.payload ->> 'customer'),
    'charge.succeeded',
    'revenue',
    CASE WHEN jsonb_typeof(r.payload -> 'amount') = 'number'
         THEN CAST(r.payload ->> 'amount' AS numeric) END,
    r.payload ->> 'currency',
    jsonb_build_object(
        'customer', r.payload ->> 'customer',
        'invoice', r.payload ->> 'invoice',
        'subscription', r.payload #>> '{metadata,subscription}'
    ),
    r.payload,
    CASE WHEN jsonb_typeof(r.payload -> 'amount') IS DISTINCT FROM 'number'
         THEN 'amount ' || coalesce(r.payload ->> 'amount', 'null') || ' is not a number ('
              || coalesce(jsonb_typeof(r.payload -> 'amount'), 'missing') || ')'
    END
FROM raw.stripe_charges AS r
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end
  AND r.payload ->> 'status' = 'succeeded';
