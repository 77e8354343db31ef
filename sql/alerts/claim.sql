-- Lock one outbox row for delivery; a row another deliverer holds is skipped, not waited for.
SELECT *
FROM ops.alerts
WHERE dedup_key = CAST(:dedup_key AS text)
FOR UPDATE SKIP LOCKED
