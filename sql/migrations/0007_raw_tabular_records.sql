-- Raw rows of the configured tabular sources (CSV / Parquet files and SQL queries declared in
-- the GROWTH_SOURCES_FILE), all in one table keyed by (source, id): sources are added by
-- configuration, not by migrations. `payload` holds the mapped fields the normaliser reads
-- (user_id, product_id, event_type, value, currency, properties) and the original row
-- (`row`), so a re-mapped or re-normalised source never needs the file or database again.
CREATE TABLE raw.tabular_records (
    source            text        NOT NULL,         -- the configured source name
    id                text        NOT NULL,         -- the id column, or a hash of the row
    occurred_at       timestamptz NOT NULL,         -- the mapped timestamp column, in UTC
    payload           jsonb       NOT NULL,
    first_ingested_at timestamptz NOT NULL DEFAULT now(),
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, id)
);

CREATE INDEX tabular_records_source_time ON raw.tabular_records (source, occurred_at);
