#!/bin/sh
# Create Temporal's two databases on PostgreSQL (persistence and visibility), or migrate them to the
# schema of this admin-tools version. Safe on every start: `create` and `setup-schema` leave an
# existing database as it is, `update-schema` applies only the versions it lacks.
# The password comes from SQL_PASSWORD, which temporal-sql-tool reads itself.
set -eu
for pair in temporal:temporal temporal_visibility:visibility; do
  database=${pair%%:*}
  schema=${pair#*:}
  set -- --plugin postgres12 --endpoint "$POSTGRES_SEEDS" --port 5432 --user "$POSTGRES_USER" --database "$database"
  temporal-sql-tool "$@" create
  temporal-sql-tool "$@" setup-schema -v 0.0
  temporal-sql-tool "$@" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
echo "Temporal schema ready on $POSTGRES_SEEDS"
