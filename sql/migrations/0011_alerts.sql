-- Alerting: the ops.alerts outbox, silences, and the analytics.alerts history view.

-- ops.alerts: one row per (product, metric, grain, period), written by detection and read by
-- delivery. Detection and delivery are separate steps joined only by this table, so a crash
-- between them loses nothing: whatever is not marked sent is sent on the next sensor tick.
-- Each channel's delivery is marked in the row (slack_sent_at, pagerduty_triggered_at, ...)
-- in the same transaction that locked the row for sending, so nothing is sent twice.
CREATE TABLE ops.alerts (
    dedup_key              text        PRIMARY KEY,  -- also PagerDuty's dedup_key
    kind                   text        NOT NULL CHECK (kind IN ('anomaly', 'check')),
    product_id             text        NOT NULL,
    metric                 text        NOT NULL,     -- metric name, or the failed check's name
    grain                  text        NOT NULL,     -- hourly / daily / monthly, or 'check'
    period                 text        NOT NULL,     -- period label (2025-01-05, 2025-01, ...)
    period_start           timestamptz,
    asset_key              text        NOT NULL,     -- '/'-separated, for the Dagster UI link
    value                  double precision,
    baseline_kind          text,
    baseline_mean          double precision,
    baseline_stddev        double precision,
    baseline_points        integer,
    z                      double precision,
    bad_direction          text,
    severity               text        NOT NULL CHECK (severity IN ('medium', 'high')),
    status                 text        NOT NULL DEFAULT 'open'
                                       CHECK (status IN ('open', 'resolved')),
    silenced               boolean     NOT NULL DEFAULT false,
    trend                  jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- last values, oldest first
    details                jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    resolved_at            timestamptz,
    resolved_by_period     text,
    slack_sent_at          timestamptz,
    slack_resolved_at      timestamptz,
    pagerduty_triggered_at timestamptz,
    pagerduty_resolved_at  timestamptz,
    attempts               integer     NOT NULL DEFAULT 0,
    last_error             text,                     -- never holds a secret or a URL
    next_attempt_at        timestamptz,
    UNIQUE (product_id, metric, grain, period)
);
CREATE INDEX alerts_open ON ops.alerts (product_id, metric, grain, period_start)
    WHERE status = 'open';
CREATE INDEX alerts_created ON ops.alerts (created_at);

-- Silences: an alert detected while a silence matches it is recorded but not delivered.
-- NULL product_id / metric match any.
CREATE TABLE ops.alert_silences (
    silence_id  bigserial   PRIMARY KEY,
    product_id  text,
    metric      text,
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz NOT NULL,
    reason      text        NOT NULL,
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE VIEW analytics.alerts AS
SELECT
    dedup_key,
    kind,
    product_id,
    metric,
    grain,
    period,
    period_start,
    value,
    baseline_kind,
    baseline_mean,
    baseline_stddev,
    z,
    severity,
    status,
    silenced,
    created_at AS detected_at,
    resolved_at,
    resolved_by_period,
    slack_sent_at,
    pagerduty_triggered_at,
    pagerduty_resolved_at
FROM ops.alerts;

COMMENT ON VIEW analytics.alerts IS
    'Alert history: one row per anomaly (product, metric, grain, period) or failed ERROR data-quality check, with the baseline it was judged against and its delivery.';
COMMENT ON COLUMN analytics.alerts.dedup_key IS
    'Unique alert key (product, metric, grain, period); also the PagerDuty dedup_key.';
COMMENT ON COLUMN analytics.alerts.kind IS
    'anomaly (a metric left its band) or check (a data-quality check with ERROR severity failed).';
COMMENT ON COLUMN analytics.alerts.product_id IS 'Product, or all for the whole portfolio.';
COMMENT ON COLUMN analytics.alerts.metric IS 'Metric name, or the failed check (asset:check).';
COMMENT ON COLUMN analytics.alerts.grain IS 'hourly, daily or monthly; check for check alerts.';
COMMENT ON COLUMN analytics.alerts.period IS
    'Period judged, as a label: 2025-01-05, 2025-01-05T13:00, 2025-01; the partition for checks.';
COMMENT ON COLUMN analytics.alerts.period_start IS 'Start of the period judged (UTC).';
COMMENT ON COLUMN analytics.alerts.value IS 'The metric value that alerted.';
COMMENT ON COLUMN analytics.alerts.baseline_kind IS
    'plain (mean/stddev of the trailing periods), weekday (same weekday of past weeks) or robust (median/MAD).';
COMMENT ON COLUMN analytics.alerts.baseline_mean IS 'Centre of the baseline (mean, or median for robust).';
COMMENT ON COLUMN analytics.alerts.baseline_stddev IS
    'Spread of the baseline (sample stddev, or 1.4826 x MAD for robust).';
COMMENT ON COLUMN analytics.alerts.z IS '(value - baseline_mean) / baseline_stddev.';
COMMENT ON COLUMN analytics.alerts.severity IS 'medium (|z| above the alert threshold) or high.';
COMMENT ON COLUMN analytics.alerts.status IS
    'open, or resolved once the metric came back inside the band.';
COMMENT ON COLUMN analytics.alerts.silenced IS
    'True when a silence (ops.alert_silences) matched at detection: recorded, not delivered.';
COMMENT ON COLUMN analytics.alerts.detected_at IS 'When detection first recorded the alert.';
COMMENT ON COLUMN analytics.alerts.resolved_at IS 'When the alert was resolved.';
COMMENT ON COLUMN analytics.alerts.resolved_by_period IS
    'The period whose value came back inside the band.';
COMMENT ON COLUMN analytics.alerts.slack_sent_at IS 'When Slack accepted the message (null: not sent).';
COMMENT ON COLUMN analytics.alerts.pagerduty_triggered_at IS
    'When PagerDuty accepted the trigger event (null: not paged).';
COMMENT ON COLUMN analytics.alerts.pagerduty_resolved_at IS
    'When PagerDuty accepted the resolve event.';
