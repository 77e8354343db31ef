-- Insert the feature-adoption rows counted by growth_assets/cohorts/adoption.py (in
-- adoption_counts, sql/cohorts/adoption_counts.sql) with the share, in key order:
-- adoption = feature users / active users of the period, rounded to 6 decimals by numeric
-- arithmetic (half away from zero).
INSERT INTO growth.feature_adoption
    (grain, period, product_id, feature, active_users, feature_users, adoption)
SELECT grain, period, product_id, feature, active_users, feature_users,
       round(CAST(feature_users AS numeric) / active_users, 6)
FROM adoption_counts
ORDER BY grain, product_id, period, feature
