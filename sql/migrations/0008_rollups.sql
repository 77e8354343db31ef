-- Rollups: the compact activity table, hourly / monthly metrics next to the daily ones, and
-- DAU / WAU / MAU. The metric columns follow growth_assets/rollups/metrics.py (a test compares
-- them); the rows are written by the rollup assets, one window per transaction.

-- More metrics in growth.metrics_daily (existing rows read 0 until their day is rebuilt).
ALTER TABLE growth.metrics_daily
    ADD COLUMN key_actions           integer NOT NULL DEFAULT 0,
    ADD COLUMN subscriptions_started integer NOT NULL DEFAULT 0,
    ADD COLUMN paying_customers      integer NOT NULL DEFAULT 0;

-- One row per (day, product, user) with any event: what makes distinct counts over days,
-- months and trailing windows cheap. Flags say what the user did that day.
CREATE TABLE growth.user_activity_daily (
    day          date           NOT NULL,
    product_id   text           NOT NULL,
    user_id      text           NOT NULL,
    events       integer        NOT NULL,  -- every canonical event of the user that day
    user_events  integer        NOT NULL,  -- user-initiated ones (growth.event_types)
    revenue      numeric(20, 6) NOT NULL,  -- gross revenue, reporting currency
    refunds      numeric(20, 6) NOT NULL,  -- refunds, reporting currency
    active       boolean        NOT NULL,  -- at least one user-initiated event
    signed_up    boolean        NOT NULL,
    activated    boolean        NOT NULL,
    paid         boolean        NOT NULL,  -- at least one successful charge
    churned      boolean        NOT NULL,  -- a subscription ended
    PRIMARY KEY (day, product_id, user_id)
);
CREATE INDEX user_activity_daily_user ON growth.user_activity_daily (product_id, user_id, day);

-- growth.metrics_hourly: per product and hour (UTC), plus product_id = 'all'.
CREATE TABLE growth.metrics_hourly (
    hour                  timestamptz    NOT NULL,
    product_id            text           NOT NULL,
    gross_revenue         numeric(20, 6) NOT NULL,
    refunds               numeric(20, 6) NOT NULL,
    net_revenue           numeric(20, 6) NOT NULL,
    signups               integer        NOT NULL,
    activations           integer        NOT NULL,
    churned_customers     integer        NOT NULL,
    active_users          integer        NOT NULL,
    tickets_created       integer        NOT NULL,
    tickets_solved        integer        NOT NULL,
    events                bigint         NOT NULL,
    key_actions           integer        NOT NULL,
    subscriptions_started integer        NOT NULL,
    paying_customers      integer        NOT NULL,
    updated_at            timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (hour, product_id)
);
CREATE INDEX metrics_hourly_product ON growth.metrics_hourly (product_id, hour);

-- growth.metrics_monthly: per product and calendar month (UTC; month = its first day).
CREATE TABLE growth.metrics_monthly (
    month                 date           NOT NULL,
    product_id            text           NOT NULL,
    gross_revenue         numeric(20, 6) NOT NULL,
    refunds               numeric(20, 6) NOT NULL,
    net_revenue           numeric(20, 6) NOT NULL,
    signups               integer        NOT NULL,
    activations           integer        NOT NULL,
    churned_customers     integer        NOT NULL,
    active_users          integer        NOT NULL,
    tickets_created       integer        NOT NULL,
    tickets_solved        integer        NOT NULL,
    events                bigint         NOT NULL,
    key_actions           integer        NOT NULL,
    subscriptions_started integer        NOT NULL,
    paying_customers      integer        NOT NULL,
    updated_at            timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (month, product_id)
);

-- DAU / WAU / MAU per product and day: distinct active users on the day, in the trailing 7
-- days and the trailing 30 days ending that day (DESIGN.md); stickiness = DAU / MAU.
CREATE TABLE growth.engagement_daily (
    day         date          NOT NULL,
    product_id  text          NOT NULL,
    dau         integer       NOT NULL,
    wau         integer       NOT NULL,
    mau         integer       NOT NULL,
    stickiness  numeric(7, 6),            -- NULL when MAU is 0
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (day, product_id)
);
CREATE INDEX metrics_daily_product ON growth.metrics_daily (product_id, day);
CREATE INDEX engagement_daily_product ON growth.engagement_daily (product_id, day);

-- Hypertables when TimescaleDB is present (any tier): the two large, time-ordered tables.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('growth.user_activity_daily', 'day',
                                  chunk_time_interval => interval '30 days');
        PERFORM create_hypertable('growth.metrics_hourly', 'hour',
                                  chunk_time_interval => interval '30 days');
    END IF;
END
$$;
