-- One channel accepted the message: stamp its column (in the transaction holding the lock).
-- next_attempt_at is left alone: another channel of the row may be backing off.
UPDATE ops.alerts
SET {{column}} = now(), updated_at = now()
WHERE dedup_key = CAST(:dedup_key AS text)
