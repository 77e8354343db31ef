-- The configured features' use (feature_usage, sql/cohorts/feature_usage.sql) by the users
-- active in the run's days, for growth_assets/cohorts/adoption.py: the user's number, the
-- day's offset from :origin and the feature's name (configured names hold no commas, quotes
-- or line breaks: resources/features.py). Use by a user not active in those days cannot
-- count (an adopter is an active user) and is not read.
SELECT u.user_no, f.day - CAST(:origin AS date) AS d, f.feature
FROM feature_usage AS f
JOIN adoption_users AS u USING (product_id, user_id)
WHERE u.product_id = ANY(CAST(:products AS text[]))
