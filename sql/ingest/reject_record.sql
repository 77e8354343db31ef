-- Keep a record that could not be keyed or timed. The key is a hash of the payload, so
-- loading the same bad record again does not add a second row.
INSERT INTO ops.rejected_events
    (source, stream, stage, reject_key, source_id, occurred_at, payload, reason, partition)
VALUES
    (:source, :stream, 'ingest', md5(CAST(:payload AS text)), :source_id, :occurred_at,
     CAST(:payload AS jsonb), :reason, :partition)
ON CONFLICT (source, stream, stage, reject_key) DO UPDATE
    SET reason = excluded.reason, rejected_at = now();
