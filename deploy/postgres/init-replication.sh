#!/bin/sh
# Readies the primary of docker-compose.yml for its streaming replica:
#   * a role that may log in for replication (REPLICATION_USER, with the
#     password REPLICATION_PASSWORD from the environment),
#   * a pg_hba.conf line letting that role connect for replication, with a
#     password, from the networks the server is attached to (samenet),
#   * a physical replication slot (REPLICATION_SLOT), so the primary keeps
#     the WAL the replica has not received yet; max_slot_wal_keep_size on
#     the server's command line bounds what a replica gone for good can
#     hold back.
# wal_level, max_wal_senders and the slot limits are command-line settings
# of the postgres service, so they apply to old data directories too.
#
# The image runs this once, when it initialises an empty data directory
# (/docker-entrypoint-initdb.d). It is idempotent: for a data directory
# made before it existed, run it by hand:
#   docker compose exec postgres /docker-entrypoint-initdb.d/10-replication.sh
set -eu

: "${POSTGRES_USER:?}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:?}"
: "${REPLICATION_USER:?set REPLICATION_USER}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"
: "${REPLICATION_SLOT:=groundwork_replica}"

# psql variables (:'name') are quoted by psql itself, so no value is ever
# spliced into SQL text by the shell. CREATE ROLE has no IF NOT EXISTS,
# hence the \gexec of a statement built only when the role is missing; the
# password is (re)set every run so rotating it is a rerun of this script.
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	--set=repl_user="$REPLICATION_USER" \
	--set=repl_password="$REPLICATION_PASSWORD" \
	--set=repl_slot="$REPLICATION_SLOT" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION', :'repl_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'repl_user') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION PASSWORD %L', :'repl_user', :'repl_password') \gexec
SELECT pg_create_physical_replication_slot(:'repl_slot')
 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'repl_slot');
SQL

# The image's own last line (host all all all scram-sha-256) does not cover
# replication connections: "all" never matches the replication pseudo-database.
hba="$PGDATA/pg_hba.conf"
line="host replication $REPLICATION_USER samenet scram-sha-256"
if ! grep -qxF "$line" "$hba"; then
	printf '\n# streaming replica of docker-compose.yml (deploy/postgres/init-replication.sh)\n%s\n' "$line" >>"$hba"
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-c 'SELECT pg_reload_conf()' >/dev/null
echo "replication ready: role $REPLICATION_USER, slot $REPLICATION_SLOT"
