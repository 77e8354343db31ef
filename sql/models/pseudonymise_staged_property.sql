-- Replace one property holding a user identifier (:path, a text[] key path) by its pseudonym.
UPDATE staged_events AS s
SET properties = jsonb_set(s.properties, CAST(:path AS text[]), to_jsonb(p.pseudonym))
FROM pseudonyms AS p
WHERE p.identifier = s.properties #>> CAST(:path AS text[]);
