-- One channel accepted the message: stamp its column (in the transaction holding the lock).
UPDATE ops.alerts
SET {{column}} = now(), updated_at = now(), next_attempt_at = NULL
WHERE dedup_key = CAST(:dedup_key AS text)
