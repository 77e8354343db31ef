-- Late-data marks older than :cutoff have long been acted on (the sensor reads new marks
-- within minutes): delete them so ops.stale_windows stays small.
DELETE FROM ops.stale_windows WHERE marked_at < CAST(:cutoff AS timestamptz);
