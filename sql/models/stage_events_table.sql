-- Candidate canonical events for one normalisation run, before validation. Each source's
-- staging query fills it with one row per event a raw record should produce.
CREATE TEMP TABLE staged_events (
    source_id    text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    product_id   text,
    user_id      text,
    source_event text,              -- the source's own name for what happened
    event_type   text,              -- the canonical type it maps to (NULL: unmapped)
    value        numeric,           -- major units, when the source gives major units
    value_minor  numeric,           -- minor units, when the source gives minor units (Stripe)
    currency     text,
    properties   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    payload      jsonb       NOT NULL,
    reject_reason text              -- set by a staging query that already knows why a row is invalid
) ON COMMIT DROP;
