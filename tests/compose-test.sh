#!/bin/sh
# tests/compose-test.sh (make compose-test): the compose stack for real.
#
# Installs docker.io, docker-compose and mmdebstrap when missing, starts a
# dockerd of its own when none answers (and stops it at the end), builds the
# base image locally (no registry here: mmdebstrap | docker import, so the
# Dockerfiles stay the ordinary ones), builds the images, brings the stack up
# with CURVE keys, sends appeals, scales hl-triage to 3 and checks that all
# three took work, kills one triage replica and one bus mid-load and checks
# that nothing was lost, checks that a container with a wrong CURVE key gets
# nothing through, and takes everything down.
#
# Where no Docker engine can run (no privileges for its namespaces or
# storage) it says so and exits 0: that is not a failure of the code.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export COMPOSE_PROJECT_NAME=hlcomposetest
export HL_POSTGRES_IMAGE=hongling/postgres:15
export HL_RESEND_AFTER_MS=1000 HL_SWEEP_INTERVAL_MS=250 HL_MAX_ATTEMPTS=1000
export HL_INTAKE_PORTS=18080-18089
# The test posts hundreds of appeals from the host through the port mapping
# without an API key: lift hl-intake's per-address limit for it.
export HL_RATE_PER_ADDR_PER_MIN=10000000 HL_RATE_BURST=1000000
appeals=${HL_COMPOSE_APPEALS:-300}
dockerd_pid=""
work=$(mktemp -d "${TMPDIR:-/tmp}/hl-compose-XXXXXX")

say() { echo "compose-test: $*"; }
skip() { say "skipped: $*"; exit 0; }
die() {
    say "FAILED: $*"
    docker-compose logs --tail=20 2>/dev/null | tail -n 120
    exit 1
}
cleanup() {
    docker-compose down -v --remove-orphans >/dev/null 2>&1
    docker rm -f hlcomposetest-intruder >/dev/null 2>&1
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null
        i=0
        while kill -0 "$dockerd_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- an engine ---------------------------------------------------------
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1 ||
    ! command -v mmdebstrap >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || skip "docker.io, docker-compose and mmdebstrap are missing and this is not root"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io docker-compose mmdebstrap >/dev/null 2>&1 || skip "could not install docker.io"
fi
if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || skip "no Docker engine answers and this is not root"
    export DOCKER_HOST="unix://$work/docker.sock"
    # vfs and no iptables: slower, but runs where overlayfs or netfilter
    # are not allowed.
    dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
        --data-root /var/lib/hl-compose-test-docker --exec-root "$work/exec" \
        --pidfile "$work/docker.pid" -H "$DOCKER_HOST" >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 150 ] || ! kill -0 "$dockerd_pid" 2>/dev/null; then
            tail -n 5 "$work/dockerd.log"
            skip "dockerd does not start here"
        fi
        sleep 0.2
    done
fi
say "engine: $(docker info --format '{{.ServerVersion}} {{.Driver}}')"
docker run --rm --network none debian:bookworm-slim true >/dev/null 2>&1 || {
    if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
        say "building debian:bookworm-slim with mmdebstrap"
        mmdebstrap --variant=apt bookworm - 2>"$work/mmdebstrap.log" |
            docker import - debian:bookworm-slim >/dev/null || die "could not build the base image"
    fi
    docker run --rm --network none debian:bookworm-slim true >/dev/null 2>&1 ||
        skip "the engine cannot run containers here"
}

# ---- images (host network for apt: this engine may have no NAT) -------------
for t in hl-bus hl-intake hl-triage hl-bounty hl-points hl-alliance hlctl; do
    DOCKER_BUILDKIT=0 docker build -q --network host -f deploy/Dockerfile --target "$t" \
        -t "hongling/$t:latest" . >/dev/null || die "docker build $t"
done
DOCKER_BUILDKIT=0 docker build -q --network host -t hongling/postgres:15 deploy/postgres >/dev/null ||
    die "docker build postgres"
say "images built"

# ---- keys and the stack ---------------------------------------------------
HLCTL_IMAGE=hongling/hlctl:latest
if [ ! -f deploy/keys/hl-bus.key ]; then
    mkdir -p deploy/keys
    docker run --rm -u 0 -v "$top/deploy/keys:/k" --entrypoint sh "$HLCTL_IMAGE" -c \
        'for k in hl-bus hl-intake hl-triage hl-bounty hl-points hl-alliance; do hlctl keygen $k --out /k >/dev/null; done' ||
        die "keygen"
fi
HLCTL=/bin/true deploy/keys.sh >/dev/null || die "deploy/keys.sh"
docker-compose config -q || die "docker-compose config"
docker-compose up -d --no-build || die "docker-compose up"
docker-compose run --rm hlctl seed-demo >/dev/null || die "seed-demo"

psql_() { docker-compose exec -T postgres psql -U postgres -d hongling -qtAc "$1" | tr -d '\r'; }
intake_port=$(docker-compose port hl-intake 8080 | sed 's/.*://')
post() { # FROM COUNT
    i=$1
    while [ "$i" -lt $(($1 + $2)) ]; do
        cp=$(printf 'cp%03d' $((i % 90 + 1)))
        code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
            -d "{\"channel\":\"qr\",\"org_unit\":\"$cp\",\"body\":\"路灯不亮，请维修（$i）\"}" \
            "http://127.0.0.1:$intake_port/v1/appeals")
        [ "$code" = 201 ] || die "appeal $i: HTTP $code"
        i=$((i + 1))
    done
}
wait_caught_up() {
    i=0
    until [ "$(psql_ "SELECT count(*) FROM pipeline.message WHERE done_at IS NULL")" = 0 ] &&
        [ "$(psql_ "SELECT count(*) FROM intake.appeal WHERE status = 'received'")" = 0 ]; do
        i=$((i + 1))
        [ $i -lt 600 ] || die "pipeline did not catch up"
        sleep 0.2
    done
}

post 0 50
wait_caught_up
say "50 appeals through the stack"

docker-compose up -d --no-build --no-recreate --scale hl-triage=3 || die "scale"
sleep 3
post 50 "$appeals"
wait_caught_up
busy=0
for c in $(docker-compose ps -q hl-triage); do
    n=$(docker exec "$c" curl -s -m 3 http://127.0.0.1:8081/metrics |
        awk '/^hl_pipeline_consumed_total/ { s += $2 } END { print s + 0 }')
    say "hl-triage $c consumed $n"
    [ "$n" -gt 0 ] && busy=$((busy + 1))
done
[ "$busy" -eq 3 ] || die "$busy of 3 triage replicas took work"

# Kill one replica and one bus mid-load.
base=$((50 + appeals))
post "$base" 100 &
poster=$!
sleep 0.5
docker kill "$(docker-compose ps -q hl-triage | head -n 1)" >/dev/null
docker-compose kill hl-bus-2 >/dev/null
wait "$poster" || die "posting during the kills"
docker-compose up -d --no-build --no-recreate hl-bus-2 >/dev/null
wait_caught_up
total=$((base + 100))
[ "$(psql_ "SELECT count(*) FROM triage.case")" = "$total" ] || die "cases != $total"
[ "$(psql_ "SELECT count(*) FROM (SELECT appeal_id FROM intake.appeal_event WHERE status = 'classified' GROUP BY 1 HAVING count(*) <> 1) d")" = 0 ] ||
    die "an appeal classified other than once"
say "$total appeals, one triage replica and one bus killed mid-load: all classified once"

# A container with a key the buses do not know.
docker run --rm -u 0 -v "$work:/k" --entrypoint hlctl "$HLCTL_IMAGE" keygen intruder --out /k >/dev/null
chown 10001 "$work/intruder.key"
net=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' \
    "$(docker-compose ps -q hl-bus-1)")
docker run -d --name hlcomposetest-intruder --network "$net" \
    -e HL_DATABASE_URL=postgresql://postgres@postgres:5432/hongling -e PGPASSFILE=/k/pgpass \
    -e HL_BUS=tcp://hl-bus-1:7100,tcp://hl-bus-2:7100 -e HL_HTTP_PORT=8081 \
    -e HL_CURVE_SECRET_KEY_FILE=/k/intruder.key -e HL_CURVE_SERVER_KEY_FILE=/k/hl-bus.pub \
    -v "$work/intruder.key:/k/intruder.key:ro" -v "$top/deploy/keys/hl-bus.pub:/k/hl-bus.pub:ro" \
    -v "$top/deploy/secrets/pgpass:/k/pgpass:ro" hongling/hl-triage:latest >/dev/null
post "$total" 50
wait_caught_up
got=$(docker exec hlcomposetest-intruder curl -s -m 3 http://127.0.0.1:8081/metrics |
    awk '/^hl_pipeline_consumed_total/ { s += $2 } END { print s + 0 }')
denied=$(docker-compose exec -T hl-bus-1 curl -s -m 3 http://127.0.0.1:9100/metrics |
    awk '/^hl_bus_zap_denied_total/ { print $2 }' | tr -d '\r')
[ "$got" = 0 ] || die "the intruder consumed $got messages"
[ "${denied:-0}" -ge 1 ] || die "hl-bus-1 denied nothing"
say "wrong CURVE key: consumed 0, hl-bus-1 denied ${denied} handshakes"
say "passed"
