-- The saved cursor of one stream, locked until the load's transaction ends so two runs of
-- the same stream cannot both advance it from the same starting point.
SELECT cursor, position_at
FROM ops.source_cursors
WHERE source = CAST(:source AS text)
  AND stream = CAST(:stream AS text)
FOR UPDATE;
