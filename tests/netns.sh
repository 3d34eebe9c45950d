#!/bin/sh
# tests/netns.sh: hongling across three "hosts" with CURVE on, one of them
# cut off for a while, nothing lost.
#
# Each host is a network namespace made here (and removed on any exit):
#   db      10.201.0.1  PostgreSQL, two hl-bus, hl-bounty, hl-alliance, hl-points
#   intake  10.201.0.2  hl-intake (the test posts appeals from inside it)
#   triage  10.201.0.3  hl-triage, plus an intruder hl-triage whose key no bus admits
# joined by veth pairs to a bridge in a fourth namespace, the "switch". The
# 10.201.0.0/24 addresses exist only inside these namespaces; the root
# namespace gets no address, route or interface.
#
# Every pipeline hop runs CurveZMQ: keys come from `hlctl keygen`, the buses
# admit only the five daemons' public keys. The test posts appeals, pulls the
# triage host's cable (its switch-side veth down) for HL_NETNS_CUT_S seconds
# while posting more, plugs it back, and asserts that every appeal was
# classified exactly once, nothing is pending or dead, the intruder consumed
# nothing and the buses counted its refused handshakes.
#
# Needs root and iproute2; prints a cmocka-style summary so tests/run.sh can
# count it, and skips (exit 0) where namespaces cannot be made.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bin="$top/$BUILD/bin"
mult=${HL_TEST_TIMEOUT_MULT:-1}
cut_s=${HL_NETNS_CUT_S:-5}
per_phase=${HL_NETNS_APPEALS:-100}

t_name=netns_partition
t_prefix=netns
. "$top/tests/support/hl_shtest.sh"
[ "$(id -u)" -eq 0 ] || t_skip "needs root"
command -v ip >/dev/null 2>&1 || t_skip "needs ip (iproute2)"
for b in hl-bus hl-intake hl-triage hl-bounty hl-alliance hl-points hlctl; do
    [ -x "$bin/$b" ] || t_skip "$bin/$b not built"
done

tag="hl$$"
sw="${tag}sw"
db="${tag}db"
in="${tag}in"
tr="${tag}tr"
work=$t_work
chmod 755 "$work"
t_logs="$work/logs/*.log"
pids=""

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    sleep 0.5
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    ip netns exec "$db" "$top/scripts/pg.sh" stop "$work/pg" >/dev/null 2>&1
    for ns in "$tr" "$in" "$db" "$sw"; do ip netns del "$ns" 2>/dev/null; done
    t_finish
}
trap cleanup EXIT

# ---- the network --------------------------------------------------------
ip netns add "$sw" 2>/dev/null || t_skip "cannot create network namespaces here"
ip netns add "$db" && ip netns add "$in" && ip netns add "$tr" || t_fail "could not create namespaces"
ip -n "$sw" link add br0 type bridge || t_fail "could not create the bridge"
ip -n "$sw" link set br0 up
ip -n "$sw" link set lo up
n=1
for ns in "$db" "$in" "$tr"; do
    port="p$n"
    ip -n "$sw" link add "$port" type veth peer name eth0 netns "$ns" || t_fail "could not create veth $port"
    ip -n "$sw" link set "$port" master br0
    ip -n "$sw" link set "$port" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "10.201.0.$n/24" dev eth0
    ip -n "$ns" link set eth0 up
    n=$((n + 1))
done

# ---- keys ---------------------------------------------------------------
keys="$work/keys"
mkdir -p "$keys/allowed" "$work/logs"
for k in hl-bus hl-intake hl-triage hl-bounty hl-alliance hl-points intruder; do
    "$bin/hlctl" keygen "$k" --out "$keys" >/dev/null || t_fail "hlctl keygen $k"
done
for k in hl-intake hl-triage hl-bounty hl-alliance hl-points; do
    cp "$keys/$k.pub" "$keys/allowed/"
done

# ---- PostgreSQL on the db host --------------------------------------------
pgport=55454
ip netns exec "$db" "$top/scripts/pg.sh" start "$work/pg" "$pgport" >/dev/null || t_fail "could not start PostgreSQL"
ip netns exec "$db" "$top/scripts/pg.sh" stop "$work/pg"
cat >>"$work/pg/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1,10.201.0.1'
CONF
echo "host all all 10.201.0.0/24 trust" >>"$work/pg/pgdata/pg_hba.conf"
ip netns exec "$db" "$top/scripts/pg.sh" start "$work/pg" "$pgport" >/dev/null || t_fail "could not restart PostgreSQL"
url="postgresql://postgres@10.201.0.1:$pgport/hongling"
HL_DATABASE_URL=$url ip netns exec "$db" "$bin/hlctl" migrate >"$work/logs/migrate.log" 2>&1 || t_fail "migrate"
HL_DATABASE_URL=$url ip netns exec "$db" "$bin/hlctl" seed-demo >>"$work/logs/migrate.log" 2>&1 || t_fail "seed-demo"

sql() { ip netns exec "$db" psql -X -qtA "$url" -c "$1"; }

# ---- daemons ------------------------------------------------------------
buses="tcp://10.201.0.1:8100,tcp://10.201.0.1:8200"
# start NS NAME BINARY KEY HTTP_PORT [VAR=VALUE...]
start() {
    ns=$1 name=$2 prog=$3 key=$4 http=$5
    shift 5
    env HL_DATABASE_URL="$url" HL_BUS="$buses" HL_HTTP_PORT="$http" HL_HTTP_ADDR=0.0.0.0 \
        HL_RESEND_AFTER_MS=1000 HL_SWEEP_INTERVAL_MS=250 HL_MAX_ATTEMPTS=1000 \
        HL_CURVE_SECRET_KEY_FILE="$keys/$key.key" HL_CURVE_SERVER_KEY_FILE="$keys/hl-bus.pub" \
        "$@" ip netns exec "$ns" "$bin/$prog" >"$work/logs/$name.log" 2>&1 &
    pids="$pids $!"
}
for b in 1 2; do
    env HL_BUS_BIND="tcp://10.201.0.1:$((8000 + b * 100))" HL_HTTP_PORT="1888$((b + 4))" \
        HL_CURVE_SECRET_KEY_FILE="$keys/hl-bus.key" HL_CURVE_ALLOWED_KEYS_DIR="$keys/allowed" \
        ip netns exec "$db" "$bin/hl-bus" >"$work/logs/hl-bus-$b.log" 2>&1 &
    pids="$pids $!"
done
start "$db" hl-bounty hl-bounty hl-bounty 18882
start "$db" hl-alliance hl-alliance hl-alliance 18883
start "$db" hl-points hl-points hl-points 18884
# The test posts its appeals from loopback without an API key: no per-address limit.
start "$in" hl-intake hl-intake hl-intake 18880 HL_RATE_EXEMPT=127.0.0.1
start "$tr" hl-triage hl-triage hl-triage 18881
start "$tr" intruder hl-triage intruder 18882

ready() { # NS PORT
    ip netns exec "$1" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/readyz" 2>/dev/null
}
wait_ready() { # NS PORT NAME
    i=0
    while [ "$(ready "$1" "$2")" != 200 ]; do
        i=$((i + 1))
        [ "$i" -lt $((150 * mult)) ] || t_fail "$3 not ready"
        sleep 0.2
    done
}
wait_ready "$db" 18885 hl-bus-1
wait_ready "$db" 18886 hl-bus-2
wait_ready "$in" 18880 hl-intake
wait_ready "$tr" 18881 hl-triage
wait_ready "$db" 18882 hl-bounty
wait_ready "$db" 18883 hl-alliance
wait_ready "$db" 18884 hl-points

accepted=0
post() { # COUNT
    i=0
    while [ "$i" -lt "$1" ]; do
        cp=$(printf 'cp%03d' $((accepted % 90 + 1)))
        body=$(printf '{"channel":"qr","org_unit":"%s","body":"楼道灯坏了三天，晚上很黑，请物业修理（第%d件）"}' "$cp" "$accepted")
        code=$(ip netns exec "$in" curl -s -m 5 -o /dev/null -w '%{http_code}' \
            -H 'Content-Type: application/json' -d "$body" http://127.0.0.1:18880/v1/appeals)
        [ "$code" = 201 ] || t_fail "appeal $accepted: HTTP $code"
        accepted=$((accepted + 1))
        i=$((i + 1))
    done
}

started=$(date +%s)
post "$per_phase"
echo "netns: cutting the triage host off for ${cut_s}s"
ip -n "$sw" link set p3 down
# The triage host's own end loses its carrier: its cable is out.
ip -n "$tr" link show eth0 | grep -q 'LOWER_UP' && t_fail "the cut did not cut"
cut_start=$(date +%s)
classified_before=$(sql "SELECT count(*) FROM intake.appeal WHERE status <> 'received'")
post "$per_phase"
while [ $(($(date +%s) - cut_start)) -lt "$cut_s" ]; do sleep 0.2; done
pending_at_cut=$(sql "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL")
classified_during=$(($(sql "SELECT count(*) FROM intake.appeal WHERE status <> 'received'") - classified_before))
ip -n "$sw" link set p3 up
echo "netns: triage host back; $pending_at_cut messages pending"
post "$per_phase"

# ---- everything caught up, once ---------------------------------------------
i=0
while :; do
    pending=$(sql "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL AND dead_at IS NULL")
    received=$(sql "SELECT count(*) FROM intake.appeal WHERE status = 'received'")
    [ "$pending" = 0 ] && [ "$received" = 0 ] && break
    i=$((i + 1))
    [ "$i" -lt $((600 * mult)) ] || t_fail "not caught up after $((i / 5))s: $pending pending, $received unclassified"
    sleep 0.2
done
caught_up=$(($(date +%s) - started))
appeals=$(sql "SELECT count(*) FROM intake.appeal")
cases=$(sql "SELECT count(*) FROM triage.case")
dead=$(sql "SELECT count(*) FROM pipeline.message WHERE dead_at IS NOT NULL")
twice=$(sql "SELECT count(*) FROM (SELECT appeal_id FROM intake.appeal_event WHERE status = 'classified' GROUP BY 1 HAVING count(*) <> 1) d")
missing=$(sql "SELECT count(*) FROM intake.appeal a WHERE NOT EXISTS (SELECT 1 FROM triage.case c WHERE c.appeal_id = a.id)")
resent=$(sql "SELECT count(*) FROM pipeline.message WHERE attempts > 0")
[ "$appeals" = "$accepted" ] || t_fail "$accepted accepted but $appeals stored"
[ "$cases" = "$accepted" ] || t_fail "$accepted appeals but $cases cases"
[ "$dead" = 0 ] || t_fail "$dead dead messages"
[ "$twice" = 0 ] || t_fail "$twice appeals classified other than once"
[ "$missing" = 0 ] || t_fail "$missing appeals without a case"

# The intruder: connected to PostgreSQL, but no bus let it in.
consumed=$(ip netns exec "$tr" curl -s -m 5 http://127.0.0.1:18882/metrics |
    awk '/^hl_pipeline_consumed_total/ { s += $2 } END { print s + 0 }')
[ "$consumed" = 0 ] || t_fail "the intruder consumed $consumed messages"
denied=0
for p in 18885 18886; do
    d=$(ip netns exec "$db" curl -s -m 5 "http://127.0.0.1:$p/metrics" |
        awk '/^hl_bus_zap_denied_total/ { print $2 }')
    denied=$((denied + ${d:-0}))
done
[ "$denied" -ge 2 ] || t_fail "the buses counted $denied refused handshakes, want at least 2"
grep -qF -e "$(cat "$keys/intruder.pub")" "$work"/logs/hl-bus-1.log || t_fail "hl-bus-1 did not log the intruder's key"

t_pass "$accepted appeals ($per_phase during a ${cut_s}s cut of the triage host, $classified_during classified while it was away); all classified exactly once, $resent messages re-sent, 0 pending, 0 dead, caught up ${caught_up}s after the first post; intruder refused $denied times, consumed 0"
