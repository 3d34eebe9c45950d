#!/bin/sh
# bench.sh (make bench): intake throughput and latency through the real
# daemon, printed beside the ceiling the same PostgreSQL reaches for the same
# rows written directly by pgbench in the same run. fsync stays on.
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${HL_BENCH_APPEALS:-20000}
C=${HL_BENCH_CONCURRENCY:-64}
dir=$(mktemp -d "${TMPDIR:-/tmp}/hl-bench-XXXXXX")
port=$(shuf -i 40000-59999 -n 1)
bus=$(shuf -i 20000-29999 -n 1)
http=$(shuf -i 30000-39999 -n 1)
url=$(scripts/pg.sh start "$dir" "$port")
cleanup() {
    [ -n "${pids:-}" ] && kill $pids 2>/dev/null
    wait 2>/dev/null
    scripts/pg.sh remove "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
export HL_DATABASE_URL="$url"
"$BUILD/bin/hlctl" migrate 2>/dev/null
"$BUILD/bin/hlctl" seed-demo >/dev/null
HL_BUS_BIND=tcp://127.0.0.1:$bus "$BUILD/bin/hl-bus" 2>"$dir/bus.log" &
pids="$!"
HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$http HL_LOG_LEVEL=warn HL_RATE_EXEMPT=127.0.0.1 "$BUILD/bin/hl-intake" 2>"$dir/intake.log" &
pids="$pids $!"
until curl -sf -m 1 "http://127.0.0.1:$http/readyz" >/dev/null; do sleep 0.1; done

echo "hongling bench: $N appeals, $C in flight, fsync on, $(nproc) cores"
echo
set -- $("$BUILD/bin/hl-bench" "http://127.0.0.1:$http/v1/appeals" "$N" "$C")
rate=$(echo "$1 $3" | awk '{printf "%.0f", $1 / $2}')
printf '  %-58s %8s appeals/s   p50 %s ms  p99 %s ms  max %s ms\n' \
    "hl-intake: HTTP -> validate -> group commit -> 201" "$rate" "$4" "$5" "$6"

# The same rows (resident-less appeal, its history step, its outbox row with
# a 300-byte envelope) written directly, one transaction per appeal.
cat >"$dir/one.sql" <<'SQL'
\set k random(1, 2000000000)
BEGIN;
WITH a AS (
  INSERT INTO intake.appeal (id, tracking_code, channel, org_unit, category, body, source_ref)
  VALUES (md5(:k::text || clock_timestamp()::text)::uuid, 'PB' || md5(random()::text), 'qr', 'cp006', 'parking',
          '春江花城地下车库有人用地锁占用公共车位，和物业说了也没人管，希望三方商量解决。', 'qr:cp-cp006')
  RETURNING id)
INSERT INTO intake.appeal_event (appeal_id, status, detail) SELECT id, 'received', 'via qr' FROM a;
INSERT INTO pipeline.message (id, stage, type, trace_id, producer, envelope, next_attempt_at)
  VALUES (md5(:k::text || random()::text)::uuid, 'appeal', 'AppealReceived', NULL, 'bench', decode(repeat('ab', 300), 'hex'), now() + interval '1 hour');
COMMIT;
SQL
# The same rows, 100 appeals per transaction (what group commit aims at).
cat >"$dir/batch.sql" <<'SQL'
BEGIN;
WITH a AS (
  INSERT INTO intake.appeal (id, tracking_code, channel, org_unit, category, body, source_ref)
  SELECT md5(g::text || clock_timestamp()::text || random()::text)::uuid, 'PB' || md5(random()::text), 'qr', 'cp006', 'parking',
         '春江花城地下车库有人用地锁占用公共车位，和物业说了也没人管，希望三方商量解决。', 'qr:cp-cp006'
    FROM generate_series(1, 100) g RETURNING id)
INSERT INTO intake.appeal_event (appeal_id, status, detail) SELECT id, 'received', 'via qr' FROM a;
INSERT INTO pipeline.message (id, stage, type, trace_id, producer, envelope, next_attempt_at)
  SELECT md5(g::text || clock_timestamp()::text || random()::text)::uuid, 'appeal', 'AppealReceived', NULL, 'bench',
         decode(repeat('ab', 300), 'hex'), now() + interval '1 hour' FROM generate_series(1, 100) g;
COMMIT;
SQL
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
pg() { "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$port" -U postgres "$@" hongling 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
t1=$(pg -c 1 -j 1 -T 8 -f "$dir/one.sql")
t16=$(pg -c 16 -j 2 -T 8 -f "$dir/one.sql")
tb=$(pg -c 2 -j 2 -T 8 -f "$dir/batch.sql")
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 1 commit per appeal, 1 client" "$t1"
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 1 commit per appeal, 16 clients" "$t16"
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 100 appeals per commit" "$(echo "$tb" | awk '{print $1 * 100}')"
echo
echo "  (the intake figure includes HTTP, JSON validation, the resident's answer after commit"
echo "   and the push to the bus; the ceilings are PostgreSQL alone on this machine, same run)"
