-- A configured tabular source (file or SQL) → candidate events. The client already applied
-- the column mapping, so the payload carries user_id, product_id, source_event, event_type
-- (NULL when an event_types map does not know the value: rejected as unmapped), value,
-- currency and properties. A value that is not a number, or too large for growth.events, is
-- rejected here with its own reason (reject_reason) instead of failing the whole window.
WITH rows AS (
    SELECT
        r.id,
        r.occurred_at,
        r.payload,
        nullif(trim(r.payload ->> 'value'), '') AS value_text
    FROM raw.tabular_records AS r
    WHERE r.source = CAST(:source AS text)
      AND r.occurred_at >= :window_start
      AND r.occurred_at < :window_end
),
parsed AS (
    SELECT
        rows.*,
        CASE WHEN value_text ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$'
             THEN CAST(value_text AS numeric) END AS value_num
    FROM rows
)
INSERT INTO staged_events
    (source_id, occurred_at, product_id, user_id, source_event, event_type, value, currency,
     properties, payload, reject_reason)
SELECT
    p.id,
    p.occurred_at,
    p.payload ->> 'product_id',
    p.payload ->> 'user_id',
    p.payload ->> 'source_event',
    p.payload ->> 'event_type',
    p.value_num,
    nullif(p.payload ->> 'currency', ''),
    coalesce(p.payload -> 'properties', '{}'::jsonb),
    p.payload,
    CASE
        WHEN p.value_text IS NOT NULL AND p.value_num IS NULL
            THEN 'value ' || quote_literal(p.value_text) || ' is not a number'
        WHEN abs(p.value_num) >= 1e14
            THEN 'value ' || quote_literal(p.value_text) || ' is out of range'
    END
FROM parsed AS p;
