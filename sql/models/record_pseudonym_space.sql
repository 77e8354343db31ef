-- Record the pseudonym space of this warehouse on first use (ops.pseudonymisation, migration
-- 0018). :fingerprint is the key's fingerprint, NULL when pseudonymisation is off. A warehouse
-- that already holds user ids but has no record was built with raw ids before the space was
-- recorded: nothing is recorded for a key then, and the caller refuses.
INSERT INTO ops.pseudonymisation (key_fingerprint)
SELECT CAST(:fingerprint AS text)
WHERE CAST(:fingerprint AS text) IS NULL
   OR NOT (EXISTS (SELECT 1 FROM growth.events) OR EXISTS (SELECT 1 FROM growth.subscriptions)
           OR EXISTS (SELECT 1 FROM growth.users))
ON CONFLICT (singleton) DO NOTHING;
