-- The counts of growth_assets/cohorts/adoption.py, copied into a temporary table dropped at
-- commit; sql/cohorts/feature_adoption.sql inserts them with the share.
CREATE TEMP TABLE adoption_counts (
    grain         text    NOT NULL,
    period        date    NOT NULL,
    product_id    text    NOT NULL,
    feature       text    NOT NULL,
    active_users  integer NOT NULL,
    feature_users integer NOT NULL
) ON COMMIT DROP
