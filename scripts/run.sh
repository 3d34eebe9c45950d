#!/bin/sh
# run.sh (make run): the embedded default. Starts a private PostgreSQL under
# ./var (unless HL_DATABASE_URL points elsewhere), migrates, seeds the demo
# city, starts two buses and the five daemons, drives a month of appeals
# through them and prints what happened. The cluster stays up; `make stop`
# ends everything this started.
#
# "cluster ready" means every process this run started is alive, listens on
# its own port and (daemons) answers /readyz: a port held by something else
# answers too, so an answer alone proves nothing. When a process does not
# come up, run.sh names it, the port and what holds the port, stops what it
# started and exits 1.
#
#   --start-only   stop after "cluster ready" (no demo); the tests use it
# HL_BASE_PORT (8080) is hl-intake's HTTP port, the other daemons follow;
# HL_BUS_PORT (7100) the first bus's base port, the second bus's is +100.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
BIN="$top/$BUILD/bin"
VAR=${HL_VAR:-$top/var}
PGPORT=${HL_PG_PORT:-5433}
HTTP_BASE=${HL_BASE_PORT:-8080}
BUS_BASE=${HL_BUS_PORT:-7100}
DAEMONS="hl-intake hl-triage hl-bounty hl-points hl-alliance"
MULT=${HL_TEST_TIMEOUT_MULT:-1}
MULT=${MULT%%.*}
[ "${MULT:-0}" -ge 1 ] 2>/dev/null || MULT=1
mkdir -p "$VAR/log" "$VAR/run"

# A second `make run` replaces the first cluster rather than colliding with it.
"$top/scripts/stop.sh" --daemons-only >/dev/null 2>&1 || true

# What holds TCP port $1, from ss -ltnp: "hl-bus (pid 4242)", or a note
# when ss cannot see the process (another user's, and we are not root).
holder() {
    line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)
    [ -n "$line" ] || return 0
    who=$(printf '%s\n' "$line" | sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/\1 (pid \2)/p')
    echo "${who:-a process of another user (run ss -ltnp as root to see which)}"
}

# The pid listening on TCP port $1, when ss can tell.
listener() {
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(("[^"]*",pid=\([0-9]*\).*/\1/p' | head -n 1
}

# Whether process $1 runs. A daemon that died is a zombie until this shell
# reaps it, and kill -0 succeeds on a zombie: ask ps for its state.
alive() {
    state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case "$state" in Z*) return 1 ;; esac
}

pg_started=0
if [ -z "${HL_DATABASE_URL:-}" ]; then
    [ -f "$VAR/pgdata/postmaster.pid" ] || pg_started=1
    if ! HL_DATABASE_URL=$("$top/scripts/pg.sh" start "$VAR" "$PGPORT"); then
        h=$(holder "$PGPORT")
        echo "make run: could not start the embedded PostgreSQL on port $PGPORT${h:+, which is held by $h}" >&2
        exit 1
    fi
    echo "embedded PostgreSQL: $HL_DATABASE_URL (data in $VAR/pgdata)"
else
    echo "external PostgreSQL: HL_DATABASE_URL is set"
fi
export HL_DATABASE_URL
echo "HL_DATABASE_URL=$HL_DATABASE_URL" >"$VAR/hongling.env"

# Stops what this run started, then exits 1.
give_up() {
    "$top/scripts/stop.sh" --daemons-only >&2 || true
    if [ "$pg_started" -eq 1 ]; then
        "$top/scripts/pg.sh" stop "$VAR" && echo "stopped PostgreSQL" >&2
    fi
    exit 1
}

"$BIN/hlctl" migrate 2>"$VAR/log/migrate.log" || { cat "$VAR/log/migrate.log"; give_up; }
"$BIN/hlctl" seed-demo || give_up

BUSES="tcp://127.0.0.1:$BUS_BASE,tcp://127.0.0.1:$((BUS_BASE + 100))"
start() {
    name=$1
    shift
    # setsid: the daemons outlive this script and its terminal.
    env "$@" setsid "$BIN/${name%-[12]}" >>"$VAR/log/$name.log" 2>&1 </dev/null &
    echo $! >"$VAR/run/$name.pid"
}
start hl-bus-1 HL_BUS_BIND="tcp://127.0.0.1:$BUS_BASE"
start hl-bus-2 HL_BUS_BIND="tcp://127.0.0.1:$((BUS_BASE + 100))"
port=$HTTP_BASE
# The demo posts its appeals from loopback without an API key: exempt
# 127.0.0.1 from hl-intake's per-address rate limit (HL_RATE_EXEMPT).
for d in $DAEMONS; do
    start "$d" HL_BUS="$BUSES" HL_HTTP_PORT="$port" HL_RATE_EXEMPT="${HL_RATE_EXEMPT-127.0.0.1}"
    port=$((port + 1))
done

# wait_up NAME PORT [http]: until NAME's process listens on PORT itself
# (and, with http, answers GET /readyz with 200), for up to 30 s.
wait_up() {
    name=$1 port=$2
    pid=$(cat "$VAR/run/$name.pid")
    i=0
    while :; do
        if ! alive "$pid"; then
            h=$(holder "$port")
            if [ -n "$h" ]; then
                echo "make run: $name did not start: port $port is held by $h" >&2
            else
                echo "make run: $name exited at start" >&2
            fi
            echo "  its log ($VAR/log/$name.log) ends:" >&2
            tail -n 5 "$VAR/log/$name.log" | sed 's/^/    /' >&2
            give_up
        fi
        if [ "$(listener "$port")" = "$pid" ] &&
            { [ $# -lt 3 ] || curl -sf -m 2 "http://127.0.0.1:$port/readyz" >/dev/null; }; then
            return 0
        fi
        i=$((i + 1))
        if [ $i -gt $((300 * MULT)) ]; then
            h=$(holder "$port")
            echo "make run: $name (pid $pid) did not become ready on port $port within $((30 * MULT)) s${h:+; the port is held by $h}" >&2
            echo "  its log ($VAR/log/$name.log) ends:" >&2
            tail -n 5 "$VAR/log/$name.log" | sed 's/^/    /' >&2
            give_up
        fi
        sleep 0.1
    done
}
wait_up hl-bus-1 "$BUS_BASE"
wait_up hl-bus-2 "$((BUS_BASE + 100))"
port=$HTTP_BASE
for d in $DAEMONS; do
    wait_up "$d" "$port" http
    port=$((port + 1))
done
echo "cluster ready"
[ "${1:-}" = --start-only ] && exit 0
echo

HL_BASE_PORT=$HTTP_BASE "$BIN/hlctl" demo

cat <<MSG

The cluster is up (logs in $VAR/log, 'make stop' ends it):
  hl-intake    http://127.0.0.1:$HTTP_BASE   appeals, tracking, reference data
  hl-triage    http://127.0.0.1:$((HTTP_BASE + 1))   commissioner's queue, items, councils
  hl-bounty    http://127.0.0.1:$((HTTP_BASE + 2))   boards: publish, claim, complete, review (keys: hlctl actor-key)
  hl-points    http://127.0.0.1:$((HTTP_BASE + 3))   balances, leaderboard
  hl-alliance  http://127.0.0.1:$((HTTP_BASE + 4))   joint meetings, outcomes, member units
  hl-bus       tcp://127.0.0.1:$BUS_BASE-$((BUS_BASE + 15)) and tcp://127.0.0.1:$((BUS_BASE + 100))-$((BUS_BASE + 115))
  PostgreSQL   $HL_DATABASE_URL
               (also in $VAR/hongling.env: . var/hongling.env && psql "\$HL_DATABASE_URL")
  pipeline     HL_DATABASE_URL=... $BUILD/bin/hlctl status
MSG
