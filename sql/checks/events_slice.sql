-- One (source, stream, window) slice of growth.events after a normalisation run: rows,
-- normalise-stage rejects, and event ids that occur more than once.
SELECT
    (SELECT count(*) FROM growth.events
     WHERE source = :source AND stream = :stream
       AND occurred_at >= :window_start AND occurred_at < :window_end) AS events,
    (SELECT count(*) FROM ops.rejected_events
     WHERE source = :source AND stream = :stream AND stage = 'normalise'
       AND occurred_at >= :window_start AND occurred_at < :window_end) AS rejected,
    (SELECT count(*) - count(DISTINCT event_id) FROM growth.events
     WHERE source = :source AND stream = :stream
       AND occurred_at >= :window_start AND occurred_at < :window_end) AS duplicate_ids;
