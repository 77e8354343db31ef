-- Whether a relation exists (views of other stages may not be deployed yet).
SELECT to_regclass(CAST(:name AS text)) IS NOT NULL AS present
