#!/bin/sh
# bench.sh (make bench): intake throughput and latency through the real
# daemon, the end-to-end rate (posted until hl-triage has committed a case
# for each), and each daemon's peak memory, printed beside the ceiling the
# same PostgreSQL reaches for the same rows written directly by pgbench in
# the same run. fsync stays on.
#
#   HL_BENCH_APPEALS     appeals posted per phase (20000)
#   HL_BENCH_CONCURRENCY requests in flight (64)
#   HL_BENCH_CEILING_S   seconds each pgbench ceiling runs (8)
#   HL_BENCH_DOWNSTREAM  1: hl-bounty, hl-points and hl-alliance run too (the
#                        whole cluster, each daemon's memory reported); 0: not
#   HL_BENCH_STORED      appeals already stored before the run, seeded with
#                        COPY (0; e.g. 1000000): 3 years of history, one item
#                        per 3 appeals, 1% of items still open
set -eu
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${HL_BENCH_APPEALS:-20000}
STORED=${HL_BENCH_STORED:-0}
C=${HL_BENCH_CONCURRENCY:-64}
dir=$(mktemp -d "${TMPDIR:-/tmp}/hl-bench-XXXXXX")
. scripts/free-ports.sh
port=$(hl_free_base 1 26000)
bus=$(hl_free_base 16 10000)
http=$(hl_free_base 5 20000)
url=$(scripts/pg.sh start "$dir" "$port")
if [ "${HL_BENCH_PGSS:-0}" = 1 ]; then
    # Where PostgreSQL's time goes: pg_stat_statements, printed after phase 1.
    psql -q -X -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
    scripts/pg.sh stop "$dir" >/dev/null
    url=$(scripts/pg.sh start "$dir" "$port")
    psql -q -X -h 127.0.0.1 -p "$port" -U postgres -d hongling -c "CREATE EXTENSION pg_stat_statements" >/dev/null
fi
cleanup() {
    [ -n "${pids:-}" ] && { kill $pids 2>/dev/null || true; }
    wait 2>/dev/null
    scripts/pg.sh remove "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM
export HL_DATABASE_URL="$url"
"$BUILD/bin/hlctl" migrate 2>/dev/null
"$BUILD/bin/hlctl" seed-demo >/dev/null
psqlc() { psql -q -X -h 127.0.0.1 -p "$port" -U postgres -d hongling -v ON_ERROR_STOP=1 "$@"; }
if [ "$STORED" -gt 0 ]; then
    # History, written with COPY (one query produces the rows, COPY loads them).
    s=$(date +%s.%N)
    psqlc -c "COPY (SELECT md5('i' || g)::uuid, 'small', 'property',
            'cp' || lpad((g % 94 + 1)::text, 3, '0'), '历史事项 ' || g,
            CASE WHEN g % 100 = 0 THEN 'routed' ELSE 'resolved' END, 'council', 'compound',
            'cp' || lpad((g % 94 + 1)::text, 3, '0'), 3,
            now() - CASE WHEN g % 100 = 0 THEN interval '1 day' * (g % 29) ELSE interval '1 hour' * (g % 26000) + interval '31 days' END,
            now() - interval '31 days', CASE WHEN g % 100 = 0 THEN NULL ELSE now() - interval '30 days' END,
            'cp' || lpad((g % 94 + 1)::text, 3, '0'), 'cm' || lpad((g % 94 % 14 + 1)::text, 2, '0')
          FROM generate_series(0, $STORED / 3) g) TO STDOUT" |
        psqlc -c "COPY triage.item (id, size, category, org_unit, title, status, route, level, target,
            appeal_count, created_at, routed_at, resolved_at, compound, community) FROM STDIN"
    psqlc -c "COPY (SELECT md5('a' || g)::uuid, 'H' || g, 'web', 'cp' || lpad((g / 3 % 94 + 1)::text, 3, '0'),
            '历史诉求' || g || '号楼电梯和楼道灯的问题', 'routed',
            now() - interval '1 hour' * (g / 3 % 26000) - interval '31 days'
          FROM generate_series(0, $STORED - 1) g) TO STDOUT" |
        psqlc -c "COPY intake.appeal (id, tracking_code, channel, org_unit, body, status, received_at) FROM STDIN"
    psqlc -c "COPY (SELECT md5('a' || g)::uuid, md5('i' || (g / 3))::uuid, 'H' || g, 'web',
            'cp' || lpad((g / 3 % 94 + 1)::text, 3, '0'), 'property', 'small', 9999, 1,
            '历史诉求' || g || '号楼电梯和楼道灯的问题',
            now() - interval '1 hour' * (g / 3 % 26000) - interval '31 days',
            now() - interval '1 hour' * (g / 3 % 26000) - interval '31 days'
          FROM generate_series(0, $STORED - 1) g) TO STDOUT" |
        psqlc -c "COPY triage.case (appeal_id, item_id, tracking_code, channel, org_unit, category,
            size, rule_id, rule_version, body, received_at, decided_at) FROM STDIN"
    for t in intake.appeal triage.item triage.case; do psqlc -c "VACUUM ANALYZE $t"; done
    # The seed's dirty pages are written now, not by a checkpoint in the middle
    # of the measured phases.
    psqlc -c "CHECKPOINT"
    printf '  seeded %s stored appeals with COPY in %.0f s\n' "$STORED" "$(echo "$(date +%s.%N) $s" | awk '{print $1 - $2}')"
fi
HL_BUS_BIND=tcp://127.0.0.1:$bus "$BUILD/bin/hl-bus" 2>"$dir/bus.log" &
pids="$!"
bus_pid=$!
HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$http HL_LOG_LEVEL=${HL_BENCH_LOG_LEVEL:-warn} HL_RATE_EXEMPT=127.0.0.1 "$BUILD/bin/hl-intake" 2>"$dir/intake.log" &
intake_pid=$!
pids="$pids $!"
HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$((http + 1)) HL_LOG_LEVEL=${HL_BENCH_LOG_LEVEL:-warn} "$BUILD/bin/hl-triage" 2>"$dir/triage.log" &
triage_pid=$!
pids="$pids $!"
# The daemons downstream of triage run too (wishes go to hl-bounty, large
# items to hl-alliance, points to hl-points), as in a real cluster: they take
# their share of the machine, and their memory is reported with the rest.
# HL_BENCH_DOWNSTREAM=0 leaves them out (intake and triage alone).
i=2
downstream="hl-bounty hl-points hl-alliance"
[ "${HL_BENCH_DOWNSTREAM:-1}" = 0 ] && downstream=""
for d in $downstream; do
    HL_BUS=tcp://127.0.0.1:$bus HL_HTTP_PORT=$((http + i)) HL_LOG_LEVEL=${HL_BENCH_LOG_LEVEL:-warn} \
        "$BUILD/bin/$d" 2>"$dir/$d.log" &
    pids="$pids $!"
    eval "pid_$i=$!"
    i=$((i + 1))
done
ready() { for k in 0 1 $([ -n "$downstream" ] && echo 2 3 4); do curl -sf -m 1 "http://127.0.0.1:$((http + k))/readyz" >/dev/null || return 1; done; }
n=0; until ready; do
    sleep 0.1; n=$((n + 1))
    [ $n -lt 600 ] || { echo "bench: the daemons did not become ready"; for k in 0 1 2 3 4; do curl -s -m 2 "http://127.0.0.1:$((http + k))/readyz" || true; done; for f in "$dir"/*.log; do echo "== $f"; tail -n 5 "$f"; done; exit 1; }
done
peak() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# CPU seconds a process has used (user + system).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# ... the bench's own PostgreSQL, per process (its postmaster and every
# backend): "pid cpu-ticks" lines ...
pgcpu_each() { pm=$(head -n 1 "$(readlink -f "$dir/pgdata")/postmaster.pid" 2>/dev/null || echo 0)
               for p in $pm $(pgrep -P "$pm"); do awk -v p="$p" '{print p, $14 + $15}' "/proc/$p/stat" 2>/dev/null; done; }
# ... and in all.
pgcpu() { pgcpu_each | awk -v hz="$(getconf CLK_TCK)" '{t += $2} END {printf "%.1f", t / hz}'; }

echo "hongling bench: $N appeals a phase, $C in flight, fsync on, $(nproc) cores, $STORED stored before"
echo
# Phase 1, end to end: posted until hl-triage has committed a case for each.
# Counted from triage.case.seq (indexed), every 0.5 s: a count(*) of the
# whole table every 20 ms cost PostgreSQL a fifth of its CPU at 1M stored.
seq0=$(psqlc -tAc "SELECT coalesce(max(seq), 0) FROM triage.case")
new_cases() { psqlc -tAc "SELECT count(*) FROM triage.case WHERE seq > $seq0"; }
c_intake=$(cpu $intake_pid); c_triage=$(cpu $triage_pid); c_pg=$(pgcpu)
[ "${HL_BENCH_PGSS:-0}" = 1 ] && pgcpu_each > "$dir/pgcpu.before"
t0=$(date +%s.%N)
set -- $("$BUILD/bin/hl-bench" "http://127.0.0.1:$http/v1/appeals" "$N" "$C")
posted=$(date +%s.%N)
at_post=$(new_cases)
while [ "$(new_cases)" -lt "$N" ]; do sleep 0.5; done
t1=$(date +%s.%N)
# hl-triage alone: its rate on the backlog left when the last 201 went out
# (intake idle by then, apart from recording the decisions).
tail_rate=$(echo "$N $at_post $posted $t1" | awk '{d = $4 - $3; r = d > 0 ? ($1 - $2) / d : 0; printf "%.0f", r}')
e2e=$(echo "$N $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}')
lag=$(echo "$posted $t1" | awk '{printf "%.2f", $2 - $1}')
joined=$(psqlc -tAc "SELECT count(*) FILTER (WHERE NOT opened_item) FROM triage.case WHERE decided_by IS NOT NULL")
mem="hl-bus $(peak $bus_pid), hl-intake $(peak $intake_pid), hl-triage $(peak $triage_pid)"
[ -n "$downstream" ] && mem="$mem, hl-bounty $(peak $pid_2), hl-points $(peak $pid_3), hl-alliance $(peak $pid_4)"
mem="$mem MB"
spent="hl-intake $(echo "$(cpu $intake_pid) $c_intake" | awk '{printf "%.1f", $1 - $2}') s, hl-triage $(echo "$(cpu $triage_pid) $c_triage" | awk '{printf "%.1f", $1 - $2}') s, PostgreSQL $(echo "$(pgcpu) $c_pg" | awk '{printf "%.1f", $1 - $2}') s"
if [ "${HL_BENCH_PGSS:-0}" = 1 ]; then
    psqlc -c "SELECT round(total_exec_time::numeric, 0) AS ms, calls, round(mean_exec_time::numeric, 3) AS mean_ms,
                     left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
                FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
    # PostgreSQL's CPU in the end-to-end phase, by process title.
    # PostgreSQL's CPU in the end-to-end phase, by whose backend it was
    # (application_name: each daemon's connections carry its name).
    pgcpu_each > "$dir/pgcpu.after"
    psqlc -tAF ' ' -c "SELECT pid, coalesce(nullif(application_name, ''), replace(backend_type, ' ', '-'))
                         FROM pg_stat_activity" > "$dir/pgcpu.names"
    echo "  PostgreSQL CPU in the end-to-end phase, by client (s):"
    awk -v hz="$(getconf CLK_TCK)" 'FILENAME ~ /names/ {n[$1] = $2; next}
        FILENAME ~ /before/ {b[$1] = $2; next}
        {k = ($1 in n) ? n[$1] : "other"; d[k] += $2 - b[$1]}
        END {for (k in d) if (d[k] > 0) printf "    %-24s %6.2f\n", k, d[k] / hz}' \
        "$dir/pgcpu.names" "$dir/pgcpu.before" "$dir/pgcpu.after" | sort -k2 -rn
    # Which updates stayed on their page (HOT: no index entries written).
    psqlc -c "SELECT schemaname || '.' || relname AS updated, n_tup_upd AS updates, n_tup_hot_upd AS hot
                FROM pg_stat_user_tables WHERE n_tup_upd > 0 ORDER BY n_tup_upd DESC LIMIT 6"
fi
# Phase 2, intake alone (hl-triage stopped, so it shares nothing).
kill -TERM $triage_pid; wait $triage_pid 2>/dev/null || true
set -- $("$BUILD/bin/hl-bench" "http://127.0.0.1:$http/v1/appeals" "$N" "$C")
rate=$(echo "$1 $3" | awk '{printf "%.0f", $1 / $2}')
printf '  %-58s %8s appeals/s   p50 %s ms  p99 %s ms  max %s ms\n' \
    "hl-intake alone: HTTP -> validate -> group commit -> 201" "$rate" "$4" "$5" "$6"
printf '  %-58s %8s appeals/s   (%s joined an open item; last case %s s after the last 201)\n' \
    "end to end: posted -> hl-triage committed a case for each" "$e2e" "$joined" "$lag"
if [ "$at_post" -lt "$N" ]; then
    printf '  %-58s %8s appeals/s   (%s of %s decided when the last 201 went out)\n' \
        "hl-triage on the backlog left after the last 201" "$tail_rate" "$at_post" "$N"
else
    printf '  %-58s %8s             (all %s decided when the last 201 went out)\n' \
        "hl-triage on the backlog left after the last 201" "none" "$N"
fi
printf '  %-58s %8s\n' "end to end / intake alone" "$(echo "$e2e $rate" | awk '{printf "%.2f", $1 / $2}')"
printf '  %-58s %s\n' "peak memory (VmHWM) during the end-to-end phase" "$mem"
printf '  %-58s %s\n' "CPU used in the end-to-end phase" "$spent"

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
T=${HL_BENCH_CEILING_S:-8}
t1=$(pg -c 1 -j 1 -T "$T" -f "$dir/one.sql")
t16=$(pg -c 16 -j 2 -T "$T" -f "$dir/one.sql")
tb=$(pg -c 2 -j 2 -T "$T" -f "$dir/batch.sql")
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 1 commit per appeal, 1 client" "$t1"
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 1 commit per appeal, 16 clients" "$t16"
printf '  %-58s %8.0f appeals/s\n' "ceiling: pgbench, same rows, 100 appeals per commit" "$(echo "$tb" | awk '{print $1 * 100}')"
echo
echo "  (the intake figure includes HTTP, JSON validation, the resident's answer after commit"
echo "   and the push to the bus; the ceilings are PostgreSQL alone on this machine, same run)"
