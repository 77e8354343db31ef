-- Save where a stream stopped reading. A cursor never moves backwards: re-running an old
-- window reads from a start time and must not rewind the cursor of the live stream.
INSERT INTO ops.source_cursors (source, stream, cursor, position_at)
VALUES (CAST(:source AS text), CAST(:stream AS text), CAST(:cursor AS text), :position_at)
ON CONFLICT (source, stream) DO UPDATE
    SET cursor = excluded.cursor,
        position_at = excluded.position_at,
        updated_at = now()
    WHERE ops.source_cursors.position_at <= excluded.position_at;
