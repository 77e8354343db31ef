-- What one normalisation run staged, loaded and rejected (read before the transaction ends).
-- Rejection reasons are grouped with quoted values and dates blanked out.
WITH kinds AS (
    SELECT regexp_replace(reason, '''[^'']*''|\d{4}-\d{2}-\d{2}', '…', 'g') AS kind,
           count(*) AS n
    FROM checked_events
    WHERE reason IS NOT NULL
    GROUP BY 1
)
SELECT
    (SELECT count(*) FROM checked_events) AS staged,
    (SELECT count(*) FROM checked_events WHERE reason IS NULL) AS loaded,
    (SELECT count(*) FROM checked_events WHERE reason IS NOT NULL) AS rejected,
    (SELECT coalesce(jsonb_object_agg(kind, n), '{}'::jsonb) FROM kinds) AS reasons;
