-- Alerts with a delivery still owed on a configured channel, oldest first. Open alerts owe
-- their trigger on the channels their severity routes to; resolved alerts owe a resolve on
-- the channels that got the trigger; an alert resolved in the same detection pass that found
-- it (resolved_at = created_at, one transaction's now()) owes Slack one "recovered" message.
-- Silenced alerts and rows backing off are skipped.
SELECT dedup_key
FROM ops.alerts
WHERE NOT silenced
  AND (next_attempt_at IS NULL OR next_attempt_at <= now())
  AND (
      (status = 'open' AND (
          (:slack AND slack_sent_at IS NULL AND severity = ANY(CAST(:slack_severities AS text[])))
          OR (:pagerduty AND pagerduty_triggered_at IS NULL
              AND severity = ANY(CAST(:pagerduty_severities AS text[])))
      ))
      OR (status = 'resolved' AND (
          (:slack AND slack_sent_at IS NOT NULL AND slack_resolved_at IS NULL)
          OR (:pagerduty AND pagerduty_triggered_at IS NOT NULL AND pagerduty_resolved_at IS NULL)
          OR (:slack AND slack_sent_at IS NULL AND resolved_at = created_at
              AND severity = ANY(CAST(:slack_severities AS text[])))
      ))
  )
ORDER BY created_at, dedup_key
LIMIT :limit
