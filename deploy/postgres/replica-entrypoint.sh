#!/bin/sh
# Entrypoint of the postgres-replica service of docker-compose.yml. On the
# first start (no cluster in PGDATA) it clones the primary with
#   pg_basebackup -R -X stream --slot …
# which copies the data directory and writes standby.signal and
# primary_conninfo (postgresql.auto.conf), then it hands over to the
# image's own entrypoint. That one finds an initialised directory, skips
# initdb and starts the server, which comes up as a hot standby streaming
# from the primary. Later starts go straight to the image's entrypoint.
#
# The replica of a primary that was re-created (a new postgres-data volume)
# cannot follow it: remove the postgres-replica-data volume and start the
# service again to clone afresh.
set -eu

: "${PGDATA:?}"
: "${PRIMARY_HOST:?set PRIMARY_HOST}"
: "${PRIMARY_PORT:=5432}"
: "${REPLICATION_USER:?set REPLICATION_USER}"
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD}"
: "${REPLICATION_SLOT:=groundwork_replica}"

# as_postgres runs a command as the postgres user: the server refuses to
# run as root and the cloned files must be its own.
as_postgres() {
	if [ "$(id -u)" != 0 ]; then
		"$@"
	elif command -v su-exec >/dev/null 2>&1; then
		su-exec postgres "$@"
	else
		gosu postgres "$@"
	fi
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	echo "replica: no cluster in $PGDATA: cloning the primary $PRIMARY_HOST:$PRIMARY_PORT"
	mkdir -p "$PGDATA"
	# A clone interrupted half-way leaves files but no PG_VERSION behind,
	# and pg_basebackup wants an empty directory.
	find "$PGDATA" -mindepth 1 -delete
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$PGDATA"
	fi
	chmod 700 "$PGDATA"
	tries=0
	until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do
		tries=$((tries + 1))
		if [ "$tries" -ge 60 ]; then
			echo "replica: the primary $PRIMARY_HOST:$PRIMARY_PORT is not ready after 60 s" >&2
			exit 1
		fi
		sleep 1
	done
	# The password reaches pg_basebackup through the environment, not the
	# command line; -R writes it into primary_conninfo in this volume
	# (mode 0600, the replica's own), as the server needs it to reconnect.
	export PGPASSWORD="$REPLICATION_PASSWORD"
	as_postgres pg_basebackup \
		--host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username="$REPLICATION_USER" --no-password \
		--pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --slot="$REPLICATION_SLOT" \
		--checkpoint=fast
	unset PGPASSWORD
	echo "replica: cloned; starting as a hot standby"
fi

exec docker-entrypoint.sh "$@"
