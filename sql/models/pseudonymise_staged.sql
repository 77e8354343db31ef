-- Replace the user ids of staged_events by their pseudonyms (pg_temp.pseudonyms holds every
-- identifier of sql/models/staged_identifiers.sql), before validation and loading.
UPDATE staged_events AS s
SET user_id = p.pseudonym
FROM pseudonyms AS p
WHERE p.identifier = s.user_id;
