-- growth.user_activity_totals: one row per (product, user) of growth.user_activity_daily with
-- their whole history summed up. The activity rollup keeps it in step with the daily table,
-- in the same transaction (growth_assets/rollups/assets.py, refresh_activity). The cohort and
-- customer-360 assets read each user's first and last active day and lifetime money here
-- instead of aggregating every user's every day again (BENCHMARKS.md, "Per-user totals").
CREATE TABLE IF NOT EXISTS growth.user_activity_totals (
    product_id       text NOT NULL,
    user_id          text NOT NULL,
    first_day        date NOT NULL,           -- first day with any event
    last_day         date NOT NULL,           -- last day with any event
    days             integer NOT NULL,        -- days with any event
    first_active_day date,                    -- first day with a user-initiated event (NULL: none)
    last_active_day  date,                    -- last such day
    active_days      integer NOT NULL,        -- days with a user-initiated event
    revenue          numeric(20,6) NOT NULL,  -- reporting currency, all days
    refunds          numeric(20,6) NOT NULL,
    PRIMARY KEY (product_id, user_id)
);

-- An existing warehouse: its activity summed up once.
INSERT INTO growth.user_activity_totals
    (product_id, user_id, first_day, last_day, days, first_active_day, last_active_day,
     active_days, revenue, refunds)
SELECT product_id, user_id, min(day), max(day), count(*),
       min(day) FILTER (WHERE active), max(day) FILTER (WHERE active),
       count(*) FILTER (WHERE active), sum(revenue), sum(refunds)
FROM growth.user_activity_daily
GROUP BY product_id, user_id
ON CONFLICT (product_id, user_id) DO NOTHING;
