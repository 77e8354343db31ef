-- Retention on plain PostgreSQL (and the remainder after drop_chunks on the Apache tier):
-- delete the rows of {{relation}} older than :cutoff.
DELETE FROM {{relation}} WHERE {{time_column}} < CAST(:cutoff AS timestamptz);
