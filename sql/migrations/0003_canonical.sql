-- The canonical layer: one row per business event, users, FX rates, and rejected rows.

-- growth.events: event_id is derived from (source, source object id, event type), so loading
-- the same source object twice can never produce two events. A partition of this table is
-- replaced (delete window + insert) in one transaction by its normalisation asset.
CREATE TABLE growth.events (
    event_id        uuid          NOT NULL,
    occurred_at     timestamptz   NOT NULL,
    product_id      text          NOT NULL,
    source          text          NOT NULL,
    stream          text          NOT NULL,
    source_id       text          NOT NULL,
    event_type      text          NOT NULL,
    user_id         text          NOT NULL,
    value           numeric(20, 6),            -- major currency units
    currency        text,                      -- ISO 4217, upper case
    value_reporting numeric(20, 6),            -- value in the reporting currency
    properties      jsonb         NOT NULL DEFAULT '{}'::jsonb,
    ingested_at     timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, occurred_at)
);
CREATE INDEX events_product_time ON growth.events (product_id, occurred_at);
CREATE INDEX events_source_time ON growth.events (source, stream, occurred_at);

-- Hypertable when TimescaleDB is present (any tier); an ordinary table otherwise.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('growth.events', 'occurred_at',
                                  chunk_time_interval => interval '7 days');
    END IF;
END
$$;

-- Daily FX: units of the reporting currency per unit of `currency`, valid from `day` until
-- the next row. A missing rate is an error for the rows that need it, never 1.0.
CREATE TABLE growth.fx_rates (
    day                date          NOT NULL,
    currency           text          NOT NULL REFERENCES growth.currencies (code),
    reporting_currency text          NOT NULL REFERENCES growth.currencies (code),
    rate               numeric(24, 12) NOT NULL CHECK (rate > 0),
    PRIMARY KEY (reporting_currency, currency, day)
);

-- One row per (product, user): first and last activity, and signup attributes.
CREATE TABLE growth.users (
    product_id     text        NOT NULL,
    user_id        text        NOT NULL,
    signed_up_at   timestamptz,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    channel        text,
    country        text,
    platform       text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, user_id)
);

-- Rows that could not become canonical events, with the reason. Nothing is dropped silently:
-- per partition, raw rows = canonical rows + rejected rows.
--   stage 'ingest':    a record that cannot even be keyed (no id, no or bad timestamp);
--                      kept by a hash of its payload so re-runs do not duplicate it.
--   stage 'normalise': a keyed raw row that fails validation; replaced with its window.
CREATE TABLE ops.rejected_events (
    source       text        NOT NULL,
    stream       text        NOT NULL,
    stage        text        NOT NULL CHECK (stage IN ('ingest', 'normalise')),
    reject_key   text        NOT NULL,
    source_id    text,
    occurred_at  timestamptz,
    payload      jsonb,
    reason       text        NOT NULL,
    partition    text,
    rejected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream, stage, reject_key)
);
CREATE INDEX rejected_events_time ON ops.rejected_events (source, stream, occurred_at);

-- growth.metrics_daily: per product and day, plus product_id = 'all' for the whole portfolio.
CREATE TABLE growth.metrics_daily (
    day                date          NOT NULL,
    product_id         text          NOT NULL,
    gross_revenue      numeric(20, 6) NOT NULL,
    refunds            numeric(20, 6) NOT NULL,
    net_revenue        numeric(20, 6) NOT NULL,
    signups            integer       NOT NULL,
    activations        integer       NOT NULL,
    churned_customers  integer       NOT NULL,
    active_users       integer       NOT NULL,
    tickets_created    integer       NOT NULL,
    tickets_solved     integer       NOT NULL,
    events             bigint        NOT NULL,
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (day, product_id)
);
