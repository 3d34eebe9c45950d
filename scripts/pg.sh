#!/bin/sh
# pg.sh: a private PostgreSQL for hongling (the embedded default and tests).
#
#   scripts/pg.sh start DIR PORT   initdb DIR/pgdata if new, start on 127.0.0.1:PORT,
#                                  create database "hongling", print its URL
#   scripts/pg.sh stop DIR         fast shutdown
#   scripts/pg.sh url DIR PORT     print the URL only
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# system user "hongling" (created on first use) and runs as that user.
set -eu
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
cmd=${1:?usage: pg.sh start|stop|url DIR [PORT]}
dir=${2:?usage: pg.sh start|stop|url DIR [PORT]}
port=${3:-5432}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/pgdata"

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u hongling -- "$@"
    else
        "$@"
    fi
}

url() { echo "postgresql://postgres@127.0.0.1:$port/hongling"; }

case "$cmd" in
start)
    if [ "$(id -u)" -eq 0 ]; then
        id hongling >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin hongling
        chown hongling "$dir"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
log_min_duration_statement = 2000
CONF
    fi
    if ! as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$PGBIN/pg_ctl" -D "$data" -o "-p $port" -l "$dir/postgresql.log" -w -t 60 start >/dev/null ||
            { tail -n 20 "$dir/postgresql.log" >&2; exit 1; }
    fi
    if ! psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='hongling'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE hongling" >/dev/null
    fi
    url
    ;;
stop)
    if [ -f "$data/PG_VERSION" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
url)
    url
    ;;
*)
    echo "usage: pg.sh start|stop|url DIR [PORT]" >&2
    exit 2
    ;;
esac
