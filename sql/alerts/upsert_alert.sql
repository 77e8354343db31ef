-- Record one alert in the outbox. A repeated detection of the same (product, metric, grain,
-- period) refreshes the figures of an open alert and never lowers its severity; a resolved
-- alert is left alone (its dedup key has had its incident). Delivery columns are untouched.
INSERT INTO ops.alerts (
    dedup_key, kind, product_id, metric, grain, period, period_start, asset_key, value,
    baseline_kind, baseline_mean, baseline_stddev, baseline_points, z, bad_direction,
    severity, silenced, trend, details
)
VALUES (
    CAST(:dedup_key AS text), CAST(:kind AS text), CAST(:product_id AS text),
    CAST(:metric AS text), CAST(:grain AS text), CAST(:period AS text), :period_start,
    CAST(:asset_key AS text), :value, CAST(:baseline_kind AS text), :baseline_mean,
    :baseline_stddev, :baseline_points, :z, CAST(:bad_direction AS text),
    CAST(:severity AS text),
    EXISTS (
        SELECT 1
        FROM ops.alert_silences AS s
        WHERE (s.product_id IS NULL OR s.product_id = CAST(:product_id AS text))
          AND (s.metric IS NULL OR s.metric = CAST(:metric AS text))
          AND now() >= s.starts_at
          AND now() < s.ends_at
    ),
    CAST(:trend AS jsonb), CAST(:details AS jsonb)
)
ON CONFLICT (dedup_key) DO UPDATE SET
    value = EXCLUDED.value,
    baseline_kind = EXCLUDED.baseline_kind,
    baseline_mean = EXCLUDED.baseline_mean,
    baseline_stddev = EXCLUDED.baseline_stddev,
    baseline_points = EXCLUDED.baseline_points,
    z = EXCLUDED.z,
    severity = CASE WHEN ops.alerts.severity = 'high' THEN 'high' ELSE EXCLUDED.severity END,
    trend = EXCLUDED.trend,
    details = EXCLUDED.details,
    updated_at = now()
WHERE ops.alerts.status = 'open'
RETURNING (xmax = 0) AS inserted
