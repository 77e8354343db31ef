-- A delivery failed after its retries: count it, keep a secret-free reason, back off.
UPDATE ops.alerts
SET attempts = attempts + 1,
    last_error = CAST(:error AS text),
    next_attempt_at = now() + make_interval(secs => :backoff_seconds),
    updated_at = now()
WHERE dedup_key = CAST(:dedup_key AS text)
