-- Insert the growth-accounting rows counted by growth_assets/cohorts/lifecycle.py (in
-- lifecycle_counts, sql/cohorts/lifecycle_counts.sql) with their ratios, in key order:
--   quick ratio    = (new + resurrected) / churned, NULL when nobody churned;
--   retention rate = retained / previous active, NULL when nobody was active before.
-- Rounded to 6 decimals by numeric arithmetic (half away from zero).
INSERT INTO growth.growth_accounting
    (grain, period, product_id, active_users, new_users, retained_users, resurrected_users,
     churned_users, previous_active_users, quick_ratio, retention_rate)
SELECT
    grain,
    period,
    product_id,
    active,
    new,
    retained,
    resurrected,
    churned,
    previous,
    round(CAST(new + resurrected AS numeric) / nullif(churned, 0), 6),
    round(CAST(retained AS numeric) / nullif(previous, 0), 6)
FROM lifecycle_counts
ORDER BY grain, product_id, period
