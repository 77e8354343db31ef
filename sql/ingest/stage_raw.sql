-- A per-transaction staging table for one load: COPY fills it, upsert_raw.sql drains it.
CREATE TEMP TABLE raw_batch (
    id          text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload     jsonb       NOT NULL
) ON COMMIT DROP;
