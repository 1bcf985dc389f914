#!/bin/bash
# First start only: a role Grafana reads with. It may select from the collector's tables in
# schema public and nothing else (no writes; the care schema stays closed to it).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v database="$POSTGRES_DB" -v reader="$GRAFANA_POSTGRES_USER" \
    -v password="$GRAFANA_POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT CONNECT ON DATABASE :"database" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
-- The care service's persons, consents, alerts and audit log: no grant to the reader at all.
CREATE SCHEMA IF NOT EXISTS care;
REVOKE ALL ON SCHEMA care FROM PUBLIC;
SQL
