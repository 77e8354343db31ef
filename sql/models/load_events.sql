-- Validate staged_events and replace one (source, stream, window) slice of growth.events and
-- of the normalise-stage rejects, inside the caller's transaction. Parameters: :source,
-- :stream, :window_start, :window_end, :reporting_currency, :partition, :product_start (the
-- configured day the product existed from: anything earlier is an "ancient" timestamp).
--
-- event_id = md5(source:source_id:event_type) read as a uuid: stable across re-runs, so the
-- same source object can never become two events.
ANALYZE staged_events;

CREATE TEMP TABLE checked_events ON COMMIT DROP AS
SELECT s.*,
    CAST(NULL AS uuid) AS event_id,
    CAST(NULL AS numeric) AS value_major,
    CAST(NULL AS numeric) AS value_reporting,
    CAST(NULL AS text) AS reason
FROM staged_events AS s
WITH NO DATA;

INSERT INTO checked_events
SELECT
    s.source_id, s.occurred_at, s.product_id, s.user_id, s.source_event, s.event_type,
    s.value, s.value_minor, upper(s.currency), s.properties, s.payload, s.reject_reason,
    CAST(md5(CAST(:source AS text) || ':' || s.source_id || ':' || coalesce(s.event_type, s.source_event, ''))
         AS uuid),
    v.value_major,
    v.value_major * CASE WHEN upper(s.currency) = :reporting_currency THEN 1 ELSE fx.rate END,
    CASE
        WHEN s.reject_reason IS NOT NULL THEN s.reject_reason
        WHEN nullif(s.user_id, '') IS NULL THEN 'missing user id'
        WHEN nullif(s.product_id, '') IS NULL THEN 'missing product id'
        WHEN s.product_id = 'all' THEN 'product id ''all'' is reserved for portfolio totals'
        -- Ids are index keys: an index entry holds at most ~2.7 kB, and one longer id would
        -- fail the whole window. Real ids are far shorter; longer ones are rejected.
        WHEN octet_length(s.product_id) > 200 THEN 'product id longer than 200 bytes'
        WHEN octet_length(s.user_id) > 1000 THEN 'user id longer than 1000 bytes'
        WHEN s.event_type IS NULL
            THEN 'unmapped source event ' || coalesce(quote_literal(s.source_event), 'NULL')
        WHEN et.event_type IS NULL
            THEN 'event type ' || quote_literal(s.event_type) || ' is not in the vocabulary'
        WHEN s.occurred_at > now() + interval '1 hour' THEN 'timestamp in the future'
        WHEN s.occurred_at < CAST(:product_start AS timestamptz)
            THEN 'timestamp before the product start'
        WHEN s.currency IS NOT NULL AND cur.code IS NULL
            THEN 'unknown currency ' || quote_literal(upper(s.currency))
        WHEN et.carries_value AND v.value_major IS NULL THEN 'missing amount'
        WHEN v.value_major < 0 THEN 'negative amount'
        WHEN v.value_major IS NOT NULL AND s.currency IS NULL THEN 'amount without currency'
        WHEN upper(s.currency) <> :reporting_currency AND fx.rate IS NULL
            THEN 'no FX rate ' || upper(s.currency) || '->' || :reporting_currency
                 || ' on or before ' || CAST(CAST(s.occurred_at AT TIME ZONE 'UTC' AS date) AS text)
    END
FROM staged_events AS s
LEFT JOIN growth.event_types AS et ON et.event_type = s.event_type
LEFT JOIN growth.currencies AS cur ON cur.code = upper(s.currency)
CROSS JOIN LATERAL (
    SELECT coalesce(s.value, s.value_minor / power(10::numeric, cur.stripe_minor_units))
        AS value_major
) AS v
LEFT JOIN LATERAL (
    SELECT f.rate
    FROM growth.fx_rates AS f
    WHERE f.reporting_currency = :reporting_currency
      AND f.currency = upper(s.currency)
      AND f.day <= CAST(s.occurred_at AT TIME ZONE 'UTC' AS date)
    ORDER BY f.day DESC
    LIMIT 1
) AS fx ON s.currency IS NOT NULL AND upper(s.currency) <> :reporting_currency;

-- Late data: mark every hour whose events differ from what the window held before, so
-- downstream windows that were already built get rebuilt (see ops.stale_windows). An hour's
-- content is compared by its row count and an order-independent digest (XOR of 64-bit
-- hashes of each event's id, product, user and value): no sort, one pass over each side.
INSERT INTO ops.stale_windows (relation, window_start, source, reason)
SELECT 'growth.events', hour, CAST(:source AS text), 'events changed in ' || CAST(:stream AS text)
FROM (
    SELECT date_trunc('hour', occurred_at, 'UTC') AS hour,
           count(*) AS n,
           bit_xor(hashtextextended(CAST(event_id AS text) || '|' || product_id || '|' || user_id
                                    || '|' || coalesce(CAST(CAST(value_reporting AS numeric(20, 6))
                                                            AS text), ''), 0)) AS digest
    FROM growth.events
    WHERE source = :source AND stream = :stream
      AND occurred_at >= :window_start AND occurred_at < :window_end
    GROUP BY 1
) AS before
FULL JOIN (
    SELECT date_trunc('hour', occurred_at, 'UTC') AS hour,
           count(*) AS n,
           bit_xor(hashtextextended(CAST(event_id AS text) || '|' || product_id || '|' || user_id
                                    || '|' || coalesce(CAST(CAST(value_reporting AS numeric(20, 6))
                                                            AS text), ''), 0)) AS digest
    FROM checked_events
    WHERE reason IS NULL
    GROUP BY 1
) AS after USING (hour)
WHERE before.digest IS DISTINCT FROM after.digest OR before.n IS DISTINCT FROM after.n
ON CONFLICT (relation, window_start, source) DO UPDATE
    SET reason = excluded.reason, marked_at = now();

DELETE FROM growth.events
WHERE source = :source
  AND stream = :stream
  AND occurred_at >= :window_start
  AND occurred_at < :window_end;

DELETE FROM ops.rejected_events
WHERE source = :source
  AND stream = :stream
  AND stage = 'normalise'
  AND occurred_at >= :window_start
  AND occurred_at < :window_end;

INSERT INTO growth.events
    (event_id, occurred_at, product_id, source, stream, source_id, event_type, user_id,
     value, currency, value_reporting, properties)
SELECT
    event_id, occurred_at, product_id, CAST(:source AS text), CAST(:stream AS text), source_id, event_type, user_id,
    value_major, currency, value_reporting, properties
FROM checked_events
WHERE reason IS NULL
ORDER BY occurred_at;  -- in time order, a hypertable insert touches one chunk at a time

INSERT INTO ops.rejected_events
    (source, stream, stage, reject_key, source_id, occurred_at, payload, reason, partition)
SELECT
    CAST(:source AS text), CAST(:stream AS text), 'normalise',
    source_id || ':' || coalesce(event_type, source_event, ''),
    source_id, occurred_at, payload, reason, :partition
FROM checked_events
WHERE reason IS NOT NULL
ON CONFLICT (source, stream, stage, reject_key) DO UPDATE
    SET occurred_at = excluded.occurred_at,
        payload = excluded.payload,
        reason = excluded.reason,
        partition = excluded.partition,
        rejected_at = now();
