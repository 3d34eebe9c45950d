#!/bin/sh
# stop.sh (make stop): SIGTERM every daemon `make run` started (they drain
# and exit), then stop the embedded PostgreSQL. --daemons-only keeps it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
VAR=${HL_VAR:-$top/var}
[ -d "$VAR" ] || exit 0
for f in "$VAR"/run/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -TERM "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 120 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        echo "stopped $(basename "$f" .pid)"
    fi
    rm -f "$f"
done
# pgdata may be a link to /var/lib/hongling/... (see scripts/pg.sh).
if [ "${1:-}" != "--daemons-only" ] && [ -e "$VAR/pgdata" ]; then
    "$top/scripts/pg.sh" stop "$VAR" && echo "stopped PostgreSQL"
fi
