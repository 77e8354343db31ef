"""Local HTTP receivers that answer like the real Slack and PagerDuty APIs (127.0.0.1 only)."""
