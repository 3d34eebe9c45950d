#!/bin/sh
# run.sh (make run): the embedded default. Starts a private PostgreSQL under
# ./var (unless HL_DATABASE_URL points elsewhere), migrates, seeds the demo
# city, starts two buses and the five daemons, drives a month of appeals
# through them and prints what happened. The cluster stays up; `make stop`
# ends everything this started.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
BUILD=${BUILD:-build}
BIN="$top/$BUILD/bin"
VAR=${HL_VAR:-$top/var}
PGPORT=${HL_PG_PORT:-5433}
mkdir -p "$VAR/log" "$VAR/run"

# A second `make run` replaces the first cluster rather than colliding with it.
"$top/scripts/stop.sh" --daemons-only >/dev/null 2>&1 || true

if [ -z "${HL_DATABASE_URL:-}" ]; then
    HL_DATABASE_URL=$("$top/scripts/pg.sh" start "$VAR" "$PGPORT")
    echo "embedded PostgreSQL: $HL_DATABASE_URL (data in $VAR/pgdata)"
else
    echo "external PostgreSQL: HL_DATABASE_URL is set"
fi
export HL_DATABASE_URL
echo "HL_DATABASE_URL=$HL_DATABASE_URL" >"$VAR/hongling.env"

"$BIN/hlctl" migrate 2>"$VAR/log/migrate.log" || { cat "$VAR/log/migrate.log"; exit 1; }
"$BIN/hlctl" seed-demo

BUSES="tcp://127.0.0.1:7100,tcp://127.0.0.1:7200"
start() {
    name=$1
    shift
    # setsid: the daemons outlive this script and its terminal.
    env "$@" setsid "$BIN/$name" >>"$VAR/log/$name${SUFFIX:-}.log" 2>&1 </dev/null &
    echo $! >"$VAR/run/$name${SUFFIX:-}.pid"
}
SUFFIX=-1 start hl-bus HL_BUS_BIND=tcp://127.0.0.1:7100
SUFFIX=-2 start hl-bus HL_BUS_BIND=tcp://127.0.0.1:7200
port=8080
# The demo posts its appeals from loopback without an API key: exempt
# 127.0.0.1 from hl-intake's per-address rate limit (HL_RATE_EXEMPT).
for d in hl-intake hl-triage hl-bounty hl-points hl-alliance; do
    start "$d" HL_BUS="$BUSES" HL_HTTP_PORT=$port HL_RATE_EXEMPT="${HL_RATE_EXEMPT-127.0.0.1}"
    port=$((port + 1))
done

port=8080
for d in hl-intake hl-triage hl-bounty hl-points hl-alliance; do
    i=0
    until curl -sf -m 2 "http://127.0.0.1:$port/readyz" >/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "$d did not become ready; its log:" >&2
            tail -n 20 "$VAR/log/$d.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    port=$((port + 1))
done
echo "cluster ready"
echo

"$BIN/hlctl" demo

cat <<MSG

The cluster is up (logs in $VAR/log, 'make stop' ends it):
  hl-intake    http://127.0.0.1:8080   appeals, tracking, reference data
  hl-triage    http://127.0.0.1:8081   commissioner's queue, items, councils
  hl-bounty    http://127.0.0.1:8082   wish board: claim, complete, review
  hl-points    http://127.0.0.1:8083   balances, leaderboard
  hl-alliance  http://127.0.0.1:8084   joint meetings, outcomes, member units
  hl-bus       tcp://127.0.0.1:7100-7113 and tcp://127.0.0.1:7200-7213
  PostgreSQL   $HL_DATABASE_URL
               (also in $VAR/hongling.env: . var/hongling.env && psql "\$HL_DATABASE_URL")
  pipeline     HL_DATABASE_URL=... $BUILD/bin/hlctl status
MSG
