"""Anomaly detection and alerting: config → detect → ops.alerts outbox → Slack / PagerDuty."""
