-- Anomalies and failed checks whose period starts in [:start, :end), worst first.
SELECT product_id, kind, metric, grain, period, value, baseline_mean, z, severity, status,
       silenced
FROM analytics.alerts
WHERE period_start >= :start AND period_start < :end
ORDER BY severity = 'high' DESC, abs(coalesce(z, 0)) DESC, product_id, metric, period
