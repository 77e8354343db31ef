-- The users of this growth-accounting run, in a temporary table dropped at commit: every
-- (product, user) active (user-initiated event) on :since or later, numbered, with their
-- first active day ever. Read by growth_assets/cohorts/lifecycle.py: a user is new in the
-- period of that first day, and the activity is read as (user_no, day) integers.
CREATE TEMP TABLE lifecycle_users (
    user_no    integer GENERATED ALWAYS AS IDENTITY,
    product_id text NOT NULL,
    user_id    text NOT NULL,
    first_day  date NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

INSERT INTO lifecycle_users (product_id, user_id, first_day)
SELECT product_id, user_id, min(day)
FROM growth.user_activity_daily
WHERE active
GROUP BY product_id, user_id
HAVING max(day) >= CAST(:since AS date);

-- Temporary tables are never analysed automatically (the activity read joins it).
ANALYZE lifecycle_users;
