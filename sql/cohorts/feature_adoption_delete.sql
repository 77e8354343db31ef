-- Remove growth.feature_adoption's rows of one grain for the periods :lo .. :hi (first
-- days): the periods holding a day of the run's window, recounted whole.
DELETE FROM growth.feature_adoption
WHERE grain = CAST(:grain AS text)
  AND period BETWEEN CAST(:lo AS date) AND CAST(:hi AS date)
