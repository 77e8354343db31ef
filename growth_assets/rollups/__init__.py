"""Rollups: metric definitions, generated SQL, rollup assets, retention and schedules."""
