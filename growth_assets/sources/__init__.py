"""Sources: one asset per source object, loading a time window into its ``raw`` table."""
