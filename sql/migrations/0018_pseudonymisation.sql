-- Which pseudonym space the user ids in growth belong to (GROWTH_PSEUDONYMISE_KEY; see
-- docs/security.md "Pseudonymisation"). One row, written by the first step that stores user ids:
-- key_fingerprint is the fingerprint of the key (an HMAC of a fixed text, never the key), or
-- NULL when user ids are stored as the sources send them. Every later step compares its own
-- setting with this row and refuses to mix two spaces; changing the key means rebuilding growth
-- from raw.
CREATE TABLE ops.pseudonymisation (
    singleton       boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    key_fingerprint text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.pseudonymisation IS 'The pseudonym space of the user ids in growth: the key''s fingerprint, or NULL for raw ids.';
COMMENT ON COLUMN ops.pseudonymisation.key_fingerprint IS 'algorithm:HMAC-SHA256(key, fixed text) in hex; NULL: user ids are not pseudonymised.';
