#!/bin/sh
# eval-live.sh: consolidation and size through the real daemons, as a new
# user measures them. For each labelled set (JSON Lines as in tests/data/:
# compound, channel, body, size, matter), a fresh embedded PostgreSQL with
# the demo city, hl-bus, hl-intake and hl-triage; the set is posted to
# POST /v1/appeals one appeal at a time and scored from triage.case
# (scripts/eval-live.py). Each set gets a cluster of its own: the sets were
# written independently over the same compound numbers (see
# services/triage/README.md, "each set is its own town").
#
#   scripts/eval-live.sh tests/data/triage-heldout.jsonl [more sets]
#
# Prints each set's figures and, for several, the figures of all together.
# Needs a build (make) and the tools of `make test`.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ $# -ge 1 ] || { echo "usage: scripts/eval-live.sh SET.jsonl [SET.jsonl ...]" >&2; exit 2; }
for f in "$@"; do [ -r "$f" ] || { echo "eval-live: cannot read $f" >&2; exit 2; }; done
. scripts/free-ports.sh
total=""
for set in "$@"; do
    dir=$(mktemp -d "${TMPDIR:-/tmp}/hl-eval-XXXXXX")
    port=$(hl_free_base 1 26000)
    bus=$(hl_free_base 16 10000)
    http=$(hl_free_base 2 20000)
    url=$(scripts/pg.sh start "$dir" "$port")
    pids=""
    stop() {
        [ -n "$pids" ] && { kill $pids 2>/dev/null || true; }
        wait 2>/dev/null
        scripts/pg.sh remove "$dir"
        rm -rf "$dir"
    }
    trap stop EXIT INT TERM
    export HL_DATABASE_URL="$url"
    "$BUILD/bin/hlctl" migrate >/dev/null 2>&1
    "$BUILD/bin/hlctl" seed-demo >/dev/null
    HL_BUS_BIND=tcp://127.0.0.1:$bus "$BUILD/bin/hl-bus" 2>"$dir/bus.log" &
    pids="$!"
    HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$http HL_LOG_LEVEL=warn HL_RATE_EXEMPT=127.0.0.1 \
        "$BUILD/bin/hl-intake" 2>"$dir/intake.log" &
    pids="$pids $!"
    HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$((http + 1)) HL_LOG_LEVEL=warn \
        "$BUILD/bin/hl-triage" 2>"$dir/triage.log" &
    pids="$pids $!"
    n=0
    until curl -sf -m 1 "http://127.0.0.1:$http/readyz" >/dev/null &&
          curl -sf -m 1 "http://127.0.0.1:$((http + 1))/readyz" >/dev/null; do
        sleep 0.1; n=$((n + 1))
        [ $n -lt 600 ] || { echo "eval-live: the daemons did not become ready" >&2; exit 1; }
    done
    out=$(python3 scripts/eval-live.py "http://127.0.0.1:$http" \
          "-h 127.0.0.1 -p $port -U postgres -d hongling" "$set")
    echo "$out" | grep -v '^COUNTS'
    total="$total
$(echo "$out" | grep '^COUNTS')"
    stop
    trap - EXIT INT TERM
done
if [ $# -gt 1 ]; then
    echo "$total" | awk '/^COUNTS/ {n += $2; s += $3; r += $4; tp += $5; fp += $6; fn += $7}
        END {p = tp + fp ? tp / (tp + fp) : 1; q = tp + fn ? tp / (tp + fn) : 1;
             f = p + q ? 2 * p * q / (p + q) : 0;
             printf "all sets: %d appeals, size %.3f (routed %.3f); precision %.3f recall %.3f F1 %.3f\n",
                    n, s / n, r / n, p, q, f}'
fi
