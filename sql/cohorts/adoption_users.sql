-- The users active (user-initiated event) in [:since, :until) of a feature-adoption run,
-- numbered, in a temporary table dropped at commit: growth_assets/cohorts/adoption.py reads
-- their activity and their feature use as (user_no, day) integers.
CREATE TEMP TABLE adoption_users (
    user_no    integer GENERATED ALWAYS AS IDENTITY,
    product_id text NOT NULL,
    user_id    text NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

INSERT INTO adoption_users (product_id, user_id)
SELECT DISTINCT product_id, user_id
FROM growth.user_activity_daily
WHERE active
  AND day >= CAST(:since AS date)
  AND day < CAST(:until AS date);

-- Temporary tables are never analysed automatically (the reads join it).
ANALYZE adoption_users;
