-- The users of a growth-accounting or LTV run, in a temporary table dropped at commit: every
-- (product, user) active (user-initiated event) on :since or later, numbered, with their
-- first active day ever (a user is new, and joins a cohort, in that day's period), from the
-- per-user totals the activity rollup keeps (sql/migrations/0023_user_activity_totals.sql).
-- Growth accounting (growth_assets/cohorts/lifecycle.py) passes the start of the earliest
-- grain's previous period and reads the activity as (user_no, day) integers; LTV
-- (sql/cohorts/cohort_ltv.sql) passes the earliest date, so every member is here: it needs
-- no segment attributes, so it does not build the triangle's members (sql/cohorts/members.sql,
-- with the plans of every member's cohort).
CREATE TEMP TABLE numbered_users (
    user_no    integer GENERATED ALWAYS AS IDENTITY,
    product_id text NOT NULL,
    user_id    text NOT NULL,
    first_day  date NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

INSERT INTO numbered_users (product_id, user_id, first_day)
SELECT product_id, user_id, first_active_day
FROM growth.user_activity_totals
WHERE last_active_day >= CAST(:since AS date);

-- Temporary tables are never analysed automatically (the reads join it).
ANALYZE numbered_users;
