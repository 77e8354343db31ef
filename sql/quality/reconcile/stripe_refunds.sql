-- Stripe refunds: a succeeded refund is one candidate refund event; pending, failed and
-- cancelled refunds returned no money and are by rule no event (counted, not rejected).
SELECT count(*) AS raw_rows,
       count(*) FILTER (WHERE payload ->> 'status' IS DISTINCT FROM 'succeeded') AS not_events,
       count(*) FILTER (WHERE payload ->> 'status' = 'succeeded') AS expected
FROM raw.stripe_refunds
WHERE occurred_at >= :window_start AND occurred_at < :window_end;
