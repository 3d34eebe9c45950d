#!/bin/sh
# tests/run-port.sh: `make run` (scripts/run.sh --start-only) with hl-triage's
# HTTP port already taken must not say "cluster ready".
#
# The port is held by an hl-bus serving HTTP there, so the holder even
# answers GET /readyz with 200 — as another cluster left running would.
# run.sh must exit non-zero naming hl-triage, the port and the holder (from
# ss -ltnp), stop every process it started, and leave the holder alone.
# Then, with the port free, the same start must reach "cluster ready" and
# `make stop` (scripts/stop.sh) end it.
#
# Uses a database of its own in the test PostgreSQL (HL_TEST_PG, set by
# tests/run.sh; skips without it) and random free ports.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
t_name=run_port_taken
t_prefix=run-port
. "$top/tests/support/hl_shtest.sh"
work=$t_work
var="$work/var"
t_logs="$work/*.out $var/log/*.log"
holder_pid=""
cleanup() {
    HL_VAR="$var" scripts/stop.sh >/dev/null 2>&1
    [ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null
    t_finish
}
trap cleanup EXIT
[ -n "${HL_TEST_PG:-}" ] || t_skip "needs the test PostgreSQL (HL_TEST_PG; run it through make test)"
command -v ss >/dev/null 2>&1 || t_skip "needs ss (iproute2)"

# A base port in $2..$2+3999 with $1 consecutive ports nobody listens on, and
# $1 more at +100 (the second bus). All below 32768: the kernel hands out
# ports from 32768 up to outgoing connections, and a test running beside this
# one held a bus port there (CI, 2026-12-04).
. "$top/scripts/free-ports.sh"
free_base() { hl_free_base "$1" "$2" 100; }
listening() { # PORT...: the ones something listens on, on one line
    for p in "$@"; do ss -Hltn "sport = :$p" | grep -q . && printf '%s ' "$p"; done
}

db=hl_run_port
psql -X -q "$HL_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" \
    >"$work/createdb.out" 2>&1 || t_fail "could not create database $db"
url="${HL_TEST_PG%/*}/$db"
http=$(free_base 5 20000)
bus=$(free_base 16 10000)
triage=$((http + 1))
ports="$(seq "$http" $((http + 4))) $(seq "$bus" $((bus + 15))) $(seq $((bus + 100)) $((bus + 115)))"
run() {
    HL_VAR="$var" HL_DATABASE_URL="$url" HL_BASE_PORT="$http" HL_BUS_PORT="$bus" \
        scripts/run.sh --start-only
}

# ---- hl-triage's port held by something that answers /readyz --------------
hold=$(free_base 16 5000)
HL_BUS_BIND="tcp://127.0.0.1:$hold" HL_HTTP_PORT="$triage" "$BUILD/bin/hl-bus" \
    >"$work/holder.out" 2>&1 &
holder_pid=$!
i=0
until curl -sf -m 1 "http://127.0.0.1:$triage/readyz" >/dev/null; do
    i=$((i + 1))
    [ "$i" -lt $((100 * ${HL_TEST_TIMEOUT_MULT:-1})) ] || t_fail "the holder never answered on port $triage"
    sleep 0.1
done

run >"$work/taken.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] || t_fail "run.sh exited 0 with port $triage taken"
grep -q "cluster ready" "$work/taken.out" && t_fail "run.sh said \"cluster ready\" with port $triage taken"
grep -q "hl-triage did not start: port $triage is held by hl-bus (pid $holder_pid)" "$work/taken.out" ||
    t_fail "run.sh did not name hl-triage, port $triage and its holder hl-bus (pid $holder_pid)"
grep -q "could not listen on 0.0.0.0:$triage" "$work/taken.out" ||
    t_fail "run.sh did not show hl-triage's own log line"
kill -0 "$holder_pid" 2>/dev/null || t_fail "run.sh stopped the holder, which it did not start"
# shellcheck disable=SC2086 # $ports is a list
left=$(listening $ports | sed "s/\b$triage \?//")
[ -z "$left" ] || t_fail "run.sh left processes listening on ports $left"
[ -z "$(ls "$var/run")" ] || t_fail "run.sh left pid files: $(ls "$var/run")"

# ---- the same start with the port free ---------------------------------------
kill "$holder_pid"
wait "$holder_pid" 2>/dev/null
holder_pid=""
run >"$work/free.out" 2>&1 || t_fail "run.sh failed with every port free"
grep -q "cluster ready" "$work/free.out" || t_fail "run.sh did not say \"cluster ready\""
# shellcheck disable=SC2086
n_ports=$(echo $ports | wc -w)
[ "$(listening $ports | wc -w)" -eq "$n_ports" ] || t_fail "not all $n_ports ports listen: $(listening $ports)"
HL_VAR="$var" scripts/stop.sh >"$work/stop.out" 2>&1
# shellcheck disable=SC2086
left=$(listening $ports)
[ -z "$left" ] || t_fail "stop.sh left processes listening on ports $left"
psql -X -q "$HL_TEST_PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
t_pass "with port $triage held, run.sh exited $rc naming hl-triage and its holder and stopped what it started; with it free, \"cluster ready\" and stop.sh ended it"
