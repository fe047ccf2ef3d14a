#!/bin/sh
# The streaming replica's entrypoint. On its first start the data directory is empty: copy
# the primary with pg_basebackup -R (which writes standby.signal and primary_conninfo) into
# a replication slot of its own, so the primary keeps the WAL the replica has not replayed.
# Then, and on every later start, run PostgreSQL as a hot standby: read-only queries served,
# changes replayed from the primary as they are written.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -q -h "$PRIMARY_HOST" -p 5432; do
        echo "waiting for the primary at $PRIMARY_HOST"
        sleep 2
    done
    PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD" pg_basebackup \
        --host "$PRIMARY_HOST" --username replicator --pgdata "$PGDATA" \
        --wal-method stream --write-recovery-conf \
        --create-slot --slot "${REPLICATION_SLOT:-replica1}" --no-password --progress
    chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on
