-- Whether growth.user_activity_daily holds days outside [:window_start, :window_end): if not,
-- a replace of that window rewrites every user's history and growth.user_activity_totals is
-- rebuilt whole rather than user by user. Two probes of the (day, ...) primary key.
SELECT EXISTS (
           SELECT 1 FROM growth.user_activity_daily
           WHERE day < CAST(CAST(:window_start AS timestamptz) AT TIME ZONE 'UTC' AS date)
       )
    OR EXISTS (
           SELECT 1 FROM growth.user_activity_daily
           WHERE day >= CAST(CAST(:window_end AS timestamptz) AT TIME ZONE 'UTC' AS date)
       ) AS outside;
