DROP SCHEMA IF EXISTS analytics, growth, raw, ops CASCADE
