-- The distinct user identifiers in staged_events: user_id, and the properties at :paths (a
-- JSON array of key paths, e.g. [["customer"], ["previous_attributes", "customer"]]). NULL and
-- blank values are not identifiers: validation must still see them as missing.
SELECT DISTINCT i.identifier
FROM (
    SELECT s.user_id AS identifier
    FROM staged_events AS s
    UNION ALL
    SELECT s.properties #>> ARRAY(SELECT jsonb_array_elements_text(p.path))
    FROM staged_events AS s
    CROSS JOIN jsonb_array_elements(CAST(:paths AS jsonb)) AS p (path)
) AS i
WHERE nullif(trim(i.identifier), '') IS NOT NULL;
