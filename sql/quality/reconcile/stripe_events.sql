-- Stripe events: every raw event of the window is one candidate (types other than the
-- subscription lifecycle are rejected as unmapped, so they stay visible).
SELECT count(*) AS raw_rows, 0 AS not_events, count(*) AS expected
FROM raw.stripe_events
WHERE occurred_at >= :window_start AND occurred_at < :window_end;
