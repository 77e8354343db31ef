-- The users active (user-initiated event) in [:since, :until) of a feature-adoption run,
-- numbered, in a temporary table dropped at commit: growth_assets/cohorts/adoption.py reads
-- their activity and their feature use as (user_no, day) integers.
CREATE TEMP TABLE adoption_users (
    user_no    integer GENERATED ALWAYS AS IDENTITY,
    product_id text NOT NULL,
    user_id    text NOT NULL,
    PRIMARY KEY (product_id, user_id)
) ON COMMIT DROP;

-- When every user's active days lie inside the window (a full backfill), its users are the
-- users with an active day at all, read from growth.user_activity_totals (kept with the
-- activity, migration 0023) instead of grouping every active day of the window (24 s at
-- 20 million events); otherwise (a day's run) the window's days are grouped. The condition
-- is one InitPlan, so the branch not taken is not run.
INSERT INTO adoption_users (product_id, user_id)
WITH span AS (
    SELECT min(first_active_day) >= CAST(:since AS date)
           AND max(last_active_day) < CAST(:until AS date) AS inside
    FROM growth.user_activity_totals
)
SELECT t.product_id, t.user_id
FROM growth.user_activity_totals AS t
WHERE (SELECT inside FROM span)
  AND t.first_active_day IS NOT NULL
UNION ALL
SELECT DISTINCT a.product_id, a.user_id
FROM growth.user_activity_daily AS a
WHERE (SELECT inside FROM span) IS NOT TRUE
  AND a.active
  AND a.day >= CAST(:since AS date)
  AND a.day < CAST(:until AS date);

ANALYZE adoption_users;
