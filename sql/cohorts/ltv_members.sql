-- The cohort members of an LTV run, in a temporary table dropped at commit: one row per
-- (product, user) ever active (user-initiated event, growth.user_activity_daily.active) with
-- the first active day. LTV needs no segment attributes, so it does not build the
-- triangle's members (sql/cohorts/members.sql, with the plans of every member's cohort).
CREATE TEMP TABLE ltv_members (
    product_id text NOT NULL,
    user_id    text NOT NULL,
    first_day  date NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

INSERT INTO ltv_members (product_id, user_id, first_day)
SELECT product_id, user_id, min(day)
FROM growth.user_activity_daily
WHERE active
GROUP BY product_id, user_id;

-- Temporary tables are never analysed automatically.
ANALYZE ltv_members;
