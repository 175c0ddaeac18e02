#!/bin/bash
# PostgreSQL init script (runs once, on an empty data directory): one database and one role per service.
# Each service owns its database and nothing else; the passwords come from the container's environment. The people
# vault (pseudonyms, keys of sealed text) is one database of its own, which every service reaches as ``people``.
set -euo pipefail

for service in priorities tasking projects reporting people; do
  var="$(echo "${service}" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  password="${!var:?${var} must be set}"
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname postgres \
       -v service="${service}" -v password="${password}" <<'SQL'
CREATE ROLE :"service" LOGIN PASSWORD :'password';
CREATE DATABASE :"service" OWNER :"service";
REVOKE ALL ON DATABASE :"service" FROM PUBLIC;
SQL
done
