-- Retention on a TimescaleDB hypertable: drop the chunks that end before :cutoff (cheap, no
-- row-by-row delete); the rows of the chunk straddling the cutoff are deleted afterwards.
SELECT count(*) AS chunks
FROM drop_chunks(CAST(:relation AS regclass), older_than => CAST(:cutoff AS timestamptz));
