#!/bin/sh
# pg.sh: a private PostgreSQL for hongling (the embedded default and tests).
#
#   scripts/pg.sh start DIR PORT   initdb DIR/pgdata if new, start on 127.0.0.1:PORT,
#                                  create database "hongling", print its URL
#   scripts/pg.sh stop DIR [MODE]  shut down: fast (default), or immediate (as a
#                                  crash would: no checkpoint, recovery at next start)
#   scripts/pg.sh remove DIR       stop it and delete its data, wherever it lives
#   scripts/pg.sh url DIR PORT     print the URL only
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# system user "hongling" (created on first use) and runs as that user. That
# user must be able to reach DIR, and a clone under a home directory that is
# 0700 (/root/x) is out of its reach. We do not loosen the modes of the
# user's directories behind their back; instead the cluster (data, log,
# socket) then lives in /var/lib/hongling/<hash of DIR>/ and DIR/pgdata and
# DIR/postgresql.log are symbolic links to it, so every later start, stop
# and remove through DIR finds it. pg.sh says so on stderr when it does this.
set -eu
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
STATE=/var/lib/hongling
cmd=${1:?usage: pg.sh start|stop|remove|url DIR [PORT|MODE]}
dir=${2:?usage: pg.sh start|stop|remove|url DIR [PORT|MODE]}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

root() { [ "$(id -u)" -eq 0 ]; }

as_owner() {
    if root; then
        runuser -u hongling -- "$@"
    else
        "$@"
    fi
}

# home: the directory that holds pgdata, postgresql.log and the socket.
# DIR itself, or the directory its pgdata link points into.
if [ -L "$dir/pgdata" ]; then
    home=$(dirname "$(readlink "$dir/pgdata")")
else
    home=$dir
fi
data="$home/pgdata"

url() { echo "postgresql://postgres@127.0.0.1:$port/hongling"; }

# As root for a new cluster: moves home out of DIR when "hongling" cannot
# reach it (a directory above DIR is not searchable by others).
place_home() {
    root && [ ! -e "$dir/pgdata" ] || return 0
    runuser -u hongling -- test -x "$(dirname "$dir")" 2>/dev/null && return 0
    home="$STATE/$(printf '%s' "$dir" | sha256sum | cut -c1-16)"
    data="$home/pgdata"
    placed=1
    ln -sfn "$data" "$dir/pgdata"
    ln -sfn "$home/postgresql.log" "$dir/postgresql.log"
    cat >&2 <<MSG
pg.sh: PostgreSQL runs as user "hongling" (it refuses root), and that user
       cannot reach $dir: a directory above it is not searchable by others.
       Rather than change the modes of your directories, the cluster lives in
       $home
       and $dir/pgdata links to it ('make stop' and
       'scripts/pg.sh remove $dir' find it there).
MSG
}

stop() { # MODE
    if [ -f "$data/PG_VERSION" ]; then
        as_owner "$PGBIN/pg_ctl" -D "$data" -m "$1" -w stop >/dev/null 2>&1 || true
    fi
}

case "$cmd" in
start)
    port=${3:-5432}
    if root; then
        id hongling >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin hongling
        place_home
        if [ "$home" != "$dir" ]; then
            install -d -m 0755 "$STATE"
            install -d -m 0700 -o hongling "$home"
        fi
        chown hongling "$home"
    fi
    if [ "$home" != "$dir" ] && [ -z "${placed:-}" ]; then
        echo "pg.sh: the cluster of $dir lives in $home" >&2
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$home'
max_connections = 200
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
log_min_duration_statement = 2000
CONF
    fi
    if ! as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$PGBIN/pg_ctl" -D "$data" -o "-p $port" -l "$home/postgresql.log" -w -t 60 start >/dev/null ||
            { tail -n 20 "$home/postgresql.log" >&2; exit 1; }
    fi
    if ! psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='hongling'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE hongling" >/dev/null
    fi
    url
    ;;
stop)
    mode=${3:-fast}
    case "$mode" in
    fast | immediate) stop "$mode" ;;
    *)
        echo "pg.sh: stop mode must be fast or immediate, not \"$mode\"" >&2
        exit 2
        ;;
    esac
    ;;
remove)
    stop fast
    rm -rf "$data" "$dir/pgdata" "$dir/postgresql.log"
    if [ "$home" != "$dir" ]; then
        rm -rf "$home"
        echo "pg.sh: removed $home" >&2
    fi
    ;;
url)
    port=${3:-5432}
    url
    ;;
*)
    echo "usage: pg.sh start|stop|remove|url DIR [PORT|MODE]" >&2
    exit 2
    ;;
esac
