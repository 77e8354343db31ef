-- Late data: hours of growth.events whose content changed when a window was (re)normalised.
-- Written by the normalisation assets (sql/models/load_events.sql) in the same transaction as
-- the events themselves; read by whatever rebuilds downstream windows. Rows are marks, not a
-- queue: a consumer remembers which marks it has seen (marked_at), so several consumers
-- (hourly, daily, monthly rollups) can each act on the same mark.
CREATE TABLE ops.stale_windows (
    relation     text        NOT NULL,              -- e.g. 'growth.events'
    window_start timestamptz NOT NULL,              -- the hour (UTC) that changed
    source       text        NOT NULL,
    reason       text        NOT NULL,
    marked_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, window_start, source)
);
CREATE INDEX stale_windows_marked ON ops.stale_windows (marked_at);
