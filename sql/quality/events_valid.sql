-- Canonical invariants of one source's slice of growth.events over a run's window, each as
-- a count of offending rows and a sample of event ids. Normalisation rejects such rows
-- before they land; this proves it held. Parameters: :source, :window_start, :window_end,
-- :product_start.
WITH slice AS (
    SELECT e.*, et.event_type IS NOT NULL AS known_type, et.carries_value,
           cur.code IS NOT NULL AS known_currency
    FROM growth.events AS e
    LEFT JOIN growth.event_types AS et ON et.event_type = e.event_type
    LEFT JOIN growth.currencies AS cur ON cur.code = e.currency
    WHERE e.source = CAST(:source AS text)
      AND e.occurred_at >= :window_start
      AND e.occurred_at < :window_end
),
flagged AS (
    SELECT event_id, source_id, event_type, value, properties, unnest(ARRAY[
        CASE WHEN nullif(user_id, '') IS NULL OR nullif(product_id, '') IS NULL
             THEN 'missing_ids' END,
        CASE WHEN NOT known_type THEN 'unknown_event_type' END,
        CASE WHEN occurred_at > now() + interval '1 hour' THEN 'future_timestamp' END,
        CASE WHEN occurred_at < CAST(:product_start AS timestamptz)
             THEN 'before_product_start' END,
        CASE WHEN currency IS NOT NULL AND NOT known_currency THEN 'unknown_currency' END,
        CASE WHEN value < 0 OR value_reporting < 0 THEN 'negative_value' END,
        CASE WHEN carries_value AND (value IS NULL OR currency IS NULL OR value_reporting IS NULL)
             THEN 'missing_value' END
    ]) AS problem
    FROM slice
),
refunds AS (
    -- every refund of a charge (any time) against the charge it returns, for the refunds
    -- of this window
    SELECT r.properties ->> 'charge' AS charge_id
    FROM slice AS r
    WHERE r.event_type = 'refund'
),
over_refunded AS (
    SELECT c.charge_id
    FROM (
        SELECT e.source_id AS charge_id, min(e.value) AS charged
        FROM growth.events AS e
        WHERE e.source = CAST(:source AS text) AND e.event_type = 'revenue'
          AND e.source_id IN (SELECT charge_id FROM refunds)
        GROUP BY e.source_id
    ) AS c
    JOIN (
        -- one pass over the source's refunds, hashed (a per-charge lateral scan of every
        -- chunk took 13 minutes on the demo's two years)
        SELECT x.properties ->> 'charge' AS charge_id, sum(x.value) AS refunded
        FROM growth.events AS x
        WHERE x.source = CAST(:source AS text) AND x.event_type = 'refund'
          AND x.properties ->> 'charge' IN (SELECT charge_id FROM refunds)
        GROUP BY 1
    ) AS t ON t.charge_id = c.charge_id
    WHERE t.refunded > c.charged
),
problems AS (
    SELECT problem, CAST(event_id AS text) AS id FROM flagged WHERE problem IS NOT NULL
    UNION ALL
    SELECT 'duplicate_event_id', CAST(event_id AS text)
    FROM slice GROUP BY event_id HAVING count(*) > 1
    UNION ALL
    SELECT 'refund_above_charge', charge_id FROM over_refunded
)
SELECT n.rows_checked, g.problem, coalesce(g.offending, 0) AS offending, g.sample
FROM (SELECT count(*) AS rows_checked FROM slice) AS n
LEFT JOIN (
    SELECT p.problem, count(*) AS offending, (array_agg(p.id ORDER BY p.id))[1:5] AS sample
    FROM problems AS p
    GROUP BY p.problem
) AS g ON true
ORDER BY g.problem;
