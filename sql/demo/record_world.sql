INSERT INTO ops.demo_world (singleton, fingerprint, built_at)
VALUES (true, CAST(:fingerprint AS jsonb), now())
ON CONFLICT (singleton) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, built_at = EXCLUDED.built_at
