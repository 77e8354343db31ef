-- Upsert a staged batch into a raw table shared by several sources, keyed by (source, id):
-- the same rules as upsert_raw.sql (rewrite a row only when its payload changed; within a
-- batch the last record of an id wins), for one :source.
WITH latest AS (
    SELECT DISTINCT ON (id) id, occurred_at, payload
    FROM raw_batch
    ORDER BY id, occurred_at DESC
),
written AS (
    INSERT INTO {{raw_table}} AS t (source, id, occurred_at, payload)
    SELECT CAST(:source AS text), id, occurred_at, payload FROM latest
    ON CONFLICT (source, id) DO UPDATE
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
