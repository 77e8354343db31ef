-- Raw, source-shaped tables: one per source object. Each keeps the source's id, the timestamp
-- the source windows on, and the whole payload (jsonb), so unknown new fields never break a
-- load and normalisation can be re-run from raw at any time. Loads upsert by source id.
CREATE TABLE raw.mixpanel_events (
    id                text        PRIMARY KEY,      -- properties.$insert_id (Mixpanel's dedupe key)
    occurred_at       timestamptz NOT NULL,         -- properties.time
    payload           jsonb       NOT NULL,
    first_ingested_at timestamptz NOT NULL DEFAULT now(),
    ingested_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE raw.stripe_customers (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE TABLE raw.stripe_subscriptions (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE TABLE raw.stripe_events (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE TABLE raw.stripe_charges (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE TABLE raw.stripe_refunds (LIKE raw.mixpanel_events INCLUDING ALL);
CREATE TABLE raw.zendesk_tickets (LIKE raw.mixpanel_events INCLUDING ALL);

CREATE INDEX ON raw.mixpanel_events (occurred_at);
CREATE INDEX ON raw.stripe_customers (occurred_at);
CREATE INDEX ON raw.stripe_subscriptions (occurred_at);
CREATE INDEX ON raw.stripe_events (occurred_at);
CREATE INDEX ON raw.stripe_charges (occurred_at);
CREATE INDEX ON raw.stripe_refunds (occurred_at);
CREATE INDEX ON raw.zendesk_tickets (occurred_at);
