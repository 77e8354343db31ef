-- Currencies of subscription events (up to :range_end) without a rate into
-- :reporting_currency on or before the end of a month of [:range_start, :range_end): a
-- missing rate is an error, never 1.0. Months before a currency's first paid event need none.
WITH currencies AS (
    SELECT e.currency, date_trunc('month', min(e.occurred_at) AT TIME ZONE 'UTC') AS since
    FROM growth.events AS e
    WHERE e.event_type IN ('subscription_started', 'subscription_changed')
      AND e.value > 0
      AND e.occurred_at < CAST(CAST(:range_end AS timestamp) AT TIME ZONE 'UTC' AS timestamptz)
      AND e.currency IS DISTINCT FROM CAST(:reporting_currency AS text)
    GROUP BY e.currency
)
SELECT coalesce(c.currency, '(none)') AS currency,
       min(CAST(m AS date)) AS first_month_without_rate
FROM currencies AS c
CROSS JOIN generate_series(CAST(:range_start AS timestamp),
                           CAST(:range_end AS timestamp) - interval '1 month',
                           interval '1 month') AS m
WHERE m >= c.since
  AND NOT EXISTS (
    SELECT 1 FROM growth.fx_rates AS f
    WHERE f.reporting_currency = CAST(:reporting_currency AS text)
      AND f.currency = c.currency
      AND f.day < m + interval '1 month'
)
GROUP BY c.currency
ORDER BY 1;
