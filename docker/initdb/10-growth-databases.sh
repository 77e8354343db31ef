#!/usr/bin/env bash
# Runs once, when the TimescaleDB container initialises an empty data volume (after the
# image's own 000_install_timescaledb.sh and 001_timescaledb_tune.sh, which stay in place:
# compose.yaml mounts this one file, not the whole folder).
#
# Creates the warehouse database ($GROWTH_DB) and Dagster's own storage ($DAGSTER_DB), and
# checks that TimescaleDB is preloaded (compose.yaml starts postgres with
# -c shared_preload_libraries=timescaledb): without the preload, CREATE EXTENSION fails
# later with a confusing message, so this fails the first start loudly instead.
set -euo pipefail

GROWTH_DB="${GROWTH_DB:-growth}"
DAGSTER_DB="${DAGSTER_DB:-dagster}"

psql=(psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --no-password --dbname postgres)

preload="$("${psql[@]}" -Atc "SHOW shared_preload_libraries")"
if [[ ",${preload// /}," != *",timescaledb,"* ]]; then
  echo "initdb: timescaledb is not in shared_preload_libraries ('${preload}')" >&2
  exit 1
fi

for db in "${GROWTH_DB}" "${DAGSTER_DB}"; do
  if [[ "$("${psql[@]}" -Atc "SELECT 1 FROM pg_database WHERE datname = '${db}'")" != "1" ]]; then
    "${psql[@]}" -c "CREATE DATABASE \"${db}\""
  fi
done

# The warehouse gets the extension now (the migrations would create it too); the license
# setting tells which tier the server runs (community: continuous aggregates available).
"${psql[@]}" --dbname "${GROWTH_DB}" -c "CREATE EXTENSION IF NOT EXISTS timescaledb"
"${psql[@]}" --dbname "${GROWTH_DB}" -Atc "SHOW timescaledb.license"

# The read-only login of the grafana service: a member of growth_bi, which migration 0009
# grants the analytics views to (and nothing else). growth_bi is created here when missing;
# the migration then finds it and only grants. Roles are cluster-wide: created once.
GRAFANA_DB_USER="${GRAFANA_DB_USER:-growth_grafana}"
if [[ -n "${GRAFANA_DB_PASSWORD:-}" ]]; then
  "${psql[@]}" -v user="${GRAFANA_DB_USER}" -v password="${GRAFANA_DB_PASSWORD}" <<'SQL'
SELECT 'CREATE ROLE growth_bi NOLOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'growth_bi') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE growth_bi', :'user', :'password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SQL
fi
