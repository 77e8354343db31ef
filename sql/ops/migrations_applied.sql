SELECT version, name, applied_at FROM ops.schema_migrations ORDER BY version;
