-- Product restriction on every analytics view, and nothing the BI role can create.
--
-- 0009 restricts the product views; the views added later without a product filter exposed
-- every product's rows to a restricted reader:
-- * analytics.alerts has a product_id: filtered like the other product views (a check alert
--   is recorded under the product it names, or 'all').
-- * analytics.quality_results / analytics.quality_scorecard have no product dimension, and
--   their observed values hold samples of offending ids of every product: a restricted
--   reader sees no rows (an unrestricted one sees all, as before).
-- CREATE OR REPLACE keeps the views' columns, comments and grants.

CREATE OR REPLACE VIEW analytics.alerts AS
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
FROM ops.alerts
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
   OR product_id IN (SELECT product_id FROM ops.product_scope);

CREATE OR REPLACE VIEW analytics.quality_results AS
SELECT
    result_id,
    check_name,
    asset_key,
    partition,
    window_start,
    window_end,
    passed,
    severity,
    blocking,
    observed,
    run_id,
    checked_at
FROM ops.quality_results
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope);

CREATE OR REPLACE VIEW analytics.quality_scorecard AS
SELECT
    asset_key,
    CAST(checked_at AT TIME ZONE 'UTC' AS date) AS day,
    count(*) AS evaluations,
    count(*) FILTER (WHERE passed) AS passed,
    count(*) FILTER (WHERE NOT passed AND severity = 'ERROR') AS failed_error,
    count(*) FILTER (WHERE NOT passed AND severity = 'WARN') AS failed_warn,
    round(CAST(count(*) FILTER (WHERE passed) AS numeric) / count(*), 4) AS pass_rate
FROM ops.quality_results
WHERE NOT EXISTS (SELECT 1 FROM ops.product_scope)
GROUP BY 1, 2;

-- Temporary tables are objects too: PostgreSQL grants TEMPORARY on every database to PUBLIC,
-- so growth_bi could create them. Revoked from PUBLIC on this database; the pipeline role is
-- granted it explicitly (docs/security.md), the owner keeps it.
DO $$
BEGIN
    EXECUTE 'REVOKE TEMPORARY ON DATABASE ' || quote_ident(current_database()) || ' FROM PUBLIC';
END
$$;
