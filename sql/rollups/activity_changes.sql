-- Rows of growth.user_activity_daily (with its inheritance children: a hypertable's chunks)
-- and how many changed since their statistics were last gathered. A backfill fills the table
-- faster than autovacuum analyses it, and the cohort plans made without statistics were
-- measured several times slower (growth_assets/rollups/assets.py: the activity rollup
-- analyses it when a window changed more than a tenth, and the cohort assets check again
-- before they read it).
WITH parts AS (
    SELECT CAST('growth.user_activity_daily' AS regclass) AS relid
    UNION ALL
    SELECT i.inhrelid
    FROM pg_inherits AS i
    WHERE i.inhparent = CAST('growth.user_activity_daily' AS regclass)
)
SELECT coalesce(sum(s.n_live_tup), 0) AS live,
       coalesce(sum(s.n_mod_since_analyze), 0) AS changed
FROM parts AS p
JOIN pg_stat_user_tables AS s ON s.relid = p.relid;
