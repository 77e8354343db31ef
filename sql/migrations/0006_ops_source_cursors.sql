-- Where an incremental source stopped reading: one opaque cursor per (source, stream).
-- Written in the same transaction as the raw rows it accounts for, so a run that fails
-- between pages leaves both the rows and the cursor as they were, and the next run resumes
-- from the last committed position without skipping anything. position_at is the source
-- timestamp the cursor has read up to (the latest record on the pages it covers); a window
-- starting at or after it may resume from the cursor.
CREATE TABLE ops.source_cursors (
    source      text        NOT NULL,
    stream      text        NOT NULL,
    cursor      text        NOT NULL,
    position_at timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, stream)
);
