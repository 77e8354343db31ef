-- Identifier → pseudonym pairs for one step, computed by the pipeline (the key never reaches
-- the server; resources/pseudonyms.py) and COPYed here. Empty when pseudonymisation is off.
DROP TABLE IF EXISTS pg_temp.pseudonyms;
CREATE TEMP TABLE pseudonyms (
    identifier text PRIMARY KEY,
    pseudonym  text NOT NULL
) ON COMMIT DROP;
