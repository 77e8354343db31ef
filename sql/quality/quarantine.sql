-- Rows of one source/stream kept in ops.rejected_events for a run: at the normalise stage by
-- their time window, at the ingest stage by the run's partition label (an unkeyable record
-- may have no timestamp). Per reason, with a few source ids as a sample. Parameters:
-- :source, :stream, :stage, :window_start, :window_end, :partition.
SELECT reason, count(*) AS rows, (array_agg(coalesce(source_id, reject_key) ORDER BY reject_key))[1:5] AS sample
FROM ops.rejected_events
WHERE source = CAST(:source AS text)
  AND stream = CAST(:stream AS text)
  AND stage = CAST(:stage AS text)
  AND CASE WHEN CAST(:stage AS text) = 'ingest'
           THEN partition = CAST(:partition AS text)
           ELSE occurred_at >= :window_start AND occurred_at < :window_end
      END
GROUP BY reason
ORDER BY rows DESC, reason;
