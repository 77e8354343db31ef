-- growth.subscriptions against raw.stripe_subscriptions for one window: raw snapshots without
-- a row, rows without a status, customer or known currency, and paying subscriptions whose MRR
-- could not be converted (no FX rate). Offending ids are listed (at most 20 each).
SELECT
    count(r.id) AS raw_rows,
    count(s.subscription_id) AS model_rows,
    (array_agg(r.id ORDER BY r.id) FILTER (WHERE s.subscription_id IS NULL))[1:20] AS missing,
    (array_agg(s.subscription_id ORDER BY s.subscription_id)
        FILTER (WHERE s.status IS NULL OR s.customer_id IS NULL OR s.mrr IS NULL))[1:20]
        AS incomplete,
    (array_agg(s.subscription_id ORDER BY s.subscription_id)
        FILTER (WHERE s.mrr_minor > 0 AND s.mrr_reporting IS NULL))[1:20] AS without_fx,
    coalesce(sum(s.mrr_reporting) FILTER (WHERE s.mrr_minor > 0), 0) AS mrr_reporting
FROM raw.stripe_subscriptions AS r
LEFT JOIN growth.subscriptions AS s ON s.subscription_id = r.id
WHERE r.occurred_at >= :window_start
  AND r.occurred_at < :window_end;
