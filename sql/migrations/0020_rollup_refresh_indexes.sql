-- Indexes for a day's rollup refresh (issue 4; BENCHMARKS.md, measurement 9).
--
-- growth.users (product_id, first_seen_at): every rollup refresh needs each product's first
-- day (the grid of zero rows starts there). With this index the refresh finds the products
-- by skipping through the primary key and each first day with one index probe, instead of
-- reading every user twice (1.4 million rows at 20 million events, in each of four refreshes).
CREATE INDEX IF NOT EXISTS users_product_first_seen ON growth.users (product_id, first_seen_at);

-- TimescaleDB's default time index on the two rollup hypertables duplicates the leading
-- column of their primary keys (day, ...) and (hour, ...), which serve every range scan; each
-- row inserted paid for a third index. Absent on plain PostgreSQL (IF EXISTS).
DROP INDEX IF EXISTS growth.user_activity_daily_day_idx;
DROP INDEX IF EXISTS growth.metrics_hourly_hour_idx;
