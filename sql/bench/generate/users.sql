-- Benchmark world (bench/generate.py): :users users of 10 products signing up uniformly over
-- [:world_start, :world_end). Each user has an exponential lifetime (mean 60 days), an
-- engagement rate per day (exponential, mean :events_per_day), a 60 % chance of activating
-- within 3 days, a 16 % chance of paying (monthly charges from 1-10 days after signup until
-- the lifetime ends) and, for payers, a 50 % chance that the end is a churn event. Product
-- sizes are skewed (the first product about a third of the users), like the demo world's.
-- The table is a generator's input, not part of the warehouse: it lives in schema bench.
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.gen_users;
SET LOCAL jit = off;
SELECT setseed(CAST(:seed AS double precision));
CREATE UNLOGGED TABLE bench.gen_users AS
WITH base AS (
    SELECT
        i,
        least(9, floor(-ln(1 - random()) * 2.5))::int AS product_no,
        CAST(:world_start AS timestamptz)
            + random() * (CAST(:world_end AS timestamptz) - CAST(:world_start AS timestamptz))
            AS signup_at,
        -ln(1 - random()) * 60 AS life_days,
        -ln(1 - random()) * CAST(:events_per_day AS double precision) AS rate,
        random() AS r_activate,
        random() AS r_pay,
        random() AS r_churn,
        random() AS r_attr,
        (1 + floor(random() * 5))::int AS plan
    FROM generate_series(1, CAST(:users AS integer)) AS i
)
SELECT
    'u' || lpad(i::text, 8, '0') AS user_id,
    (ARRAY['atlas', 'beacon', 'cinder', 'delta', 'ember', 'fable', 'garnet', 'harbor', 'iris',
           'juniper'])[product_no + 1] AS product_id,
    signup_at,
    signup_at + life_days * interval '1 day' AS end_at,
    rate,
    CASE WHEN r_activate < 0.6 THEN signup_at + r_activate * interval '5 days' END
        AS activated_at,
    CASE WHEN r_pay < 0.16 THEN signup_at + (1 + r_pay * 56) * interval '1 day' END AS pay_start,
    CAST(plan * 10 - 1 AS numeric(20, 6)) AS mrr,
    r_pay < 0.16 AND r_churn < 0.5 AS churns,
    (ARRAY['organic', 'paid_search', 'social', 'referral'])[1 + floor(r_attr * 4)::int]
        AS channel,
    (ARRAY['US', 'GB', 'DE', 'FR', 'IN', 'JP', 'CA', 'AU'])[1 + floor(r_attr * 97)::int % 8]
        AS country,
    (ARRAY['web', 'ios', 'android'])[1 + floor(r_attr * 31)::int % 3] AS platform
FROM base;
CREATE INDEX gen_users_span ON bench.gen_users (signup_at, end_at);
ANALYZE bench.gen_users;
