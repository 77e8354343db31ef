-- Remove growth.growth_accounting's rows of one grain from period :lo on: they are rebuilt
-- (growth_assets/cohorts/lifecycle.py says why from there on).
DELETE FROM growth.growth_accounting
WHERE grain = CAST(:grain AS text)
  AND period >= CAST(:lo AS date)
