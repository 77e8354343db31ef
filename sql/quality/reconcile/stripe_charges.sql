-- Stripe charges: a succeeded charge is one candidate revenue event; failed and pending
-- charges collected no money and are by rule no event (counted, not rejected).
SELECT count(*) AS raw_rows,
       count(*) FILTER (WHERE payload ->> 'status' IS DISTINCT FROM 'succeeded') AS not_events,
       count(*) FILTER (WHERE payload ->> 'status' = 'succeeded') AS expected
FROM raw.stripe_charges
WHERE occurred_at >= :window_start AND occurred_at < :window_end;
