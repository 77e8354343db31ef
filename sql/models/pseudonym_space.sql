-- The recorded pseudonym space (no row: none recorded; see record_pseudonym_space.sql).
SELECT key_fingerprint FROM ops.pseudonymisation;
