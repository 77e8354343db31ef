-- Upsert a staged batch into a raw table by source id. A record seen again is rewritten only
-- when its payload changed, so a re-run of the same window writes nothing. Within one batch the
-- last record of an id wins (sources such as Mixpanel repeat records).
WITH latest AS (
    SELECT DISTINCT ON (id) id, occurred_at, payload
    FROM raw_batch
    ORDER BY id, occurred_at DESC
),
written AS (
    INSERT INTO {{raw_table}} AS t (id, occurred_at, payload)
    SELECT id, occurred_at, payload FROM latest
    ON CONFLICT (id) DO UPDATE
        SET occurred_at = excluded.occurred_at,
            payload = excluded.payload,
            ingested_at = now()
        WHERE t.payload IS DISTINCT FROM excluded.payload
    RETURNING (xmax = 0) AS inserted
)
SELECT
    (SELECT count(*) FROM latest) AS distinct_ids,
    count(*) FILTER (WHERE inserted) AS inserted,
    count(*) FILTER (WHERE NOT inserted) AS updated
FROM written;
