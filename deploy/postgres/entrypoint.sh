#!/bin/sh
# First start: initdb with the password from POSTGRES_PASSWORD_FILE, create
# POSTGRES_DB; then run postgres as user postgres in the foreground.
set -eu
if [ "$(id -u)" -eq 0 ]; then
    pw=$(cat "${POSTGRES_PASSWORD_FILE:?}")
    chown postgres:postgres "$PGDATA"
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        printf '%s\n' "$pw" >/tmp/pw && chown postgres /tmp/pw
        su postgres -s /bin/sh -c "initdb -D '$PGDATA' -U postgres -E UTF8 --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 --pwfile=/tmp/pw" >/dev/null
        rm -f /tmp/pw
        echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
        echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
        su postgres -s /bin/sh -c "pg_ctl -D '$PGDATA' -w start -o '-c listen_addresses=' >/dev/null"
        su postgres -s /bin/sh -c "psql -qc 'CREATE DATABASE \"${POSTGRES_DB:-postgres}\"' postgres" || true
        su postgres -s /bin/sh -c "pg_ctl -D '$PGDATA' -w stop >/dev/null"
    fi
    exec su postgres -s /bin/sh -c 'exec postgres -D "$PGDATA"'
fi
exec postgres -D "$PGDATA"
