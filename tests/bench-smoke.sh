#!/bin/sh
# tests/bench-smoke.sh: `make bench` still runs and still prints what issue 8
# asked of it — history seeded with COPY (HL_BENCH_STORED), intake alone, end to
# end until hl-triage committed every case,
# their ratio, hl-triage's backlog, every daemon's peak memory, and the
# pgbench ceilings of the same run — on a few hundred appeals and one-second
# ceilings. It asserts the lines and that they carry figures, never how fast:
# the machines are shared. Then tests/bench-stored.sh (make bench-stored) the
# same way. Prints a cmocka-style summary.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
t_name=bench_smoke
t_prefix=bench-smoke
. "$top/tests/support/hl_shtest.sh"
t_logs="$t_work/bench.out"
command -v pgbench >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 ||
    t_skip "needs pgbench"
HL_BENCH_APPEALS=300 HL_BENCH_CONCURRENCY=16 HL_BENCH_CEILING_S=1 HL_BENCH_STORED=3000 BUILD=$BUILD \
    sh tests/bench.sh >"$t_work/bench.out" 2>&1 || t_fail "bench.sh failed"
out="$t_work/bench.out"
# HL_BENCH_STORED seeds history with COPY before the run (1,000,000 in the README's figures).
grep -Eq 'seeded 3000 stored appeals with COPY' "$out" || t_fail "history not seeded"
grep -Eq ', 3000 stored before' "$out" || t_fail "the run does not say what was stored"
grep -Eq 'hl-intake alone: .* [0-9]+ appeals/s' "$out" || t_fail "no intake-alone rate"
grep -Eq 'end to end: .* [0-9]+ appeals/s' "$out" || t_fail "no end-to-end rate"
grep -Eq 'end to end / intake alone +[0-9.]+' "$out" || t_fail "no ratio"
grep -Eq 'hl-triage on the backlog' "$out" || t_fail "no backlog line"
for d in hl-bus hl-intake hl-triage hl-bounty hl-points hl-alliance; do
    grep -Eq "peak memory .*$d [0-9.]+" "$out" || t_fail "no peak memory for $d"
done
[ "$(grep -Ec 'ceiling: pgbench.* [0-9]+ appeals/s' "$out")" -eq 3 ] || t_fail "not three ceilings"
# make bench-stored: an empty and a stored run back to back, and their ratio.
HL_BENCH_APPEALS=300 HL_BENCH_CONCURRENCY=16 HL_BENCH_CEILING_S=1 HL_BENCH_STORED=3000 \
    HL_BENCH_DOWNSTREAM=0 BUILD=$BUILD sh tests/bench-stored.sh >"$t_work/stored.out" 2>&1 ||
    t_fail "bench-stored.sh failed"
grep -Eq '^== pair 1, 0 stored' "$t_work/stored.out" || t_fail "bench-stored: no empty run"
grep -Eq '^== pair 1, 3000 stored' "$t_work/stored.out" || t_fail "bench-stored: no stored run"
grep -Eq '^  1 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+\.[0-9][0-9]$' "$t_work/stored.out" ||
    t_fail "bench-stored: no line with both runs' rates and their ratio"
t_pass "make bench prints every figure ($(grep -E 'end to end:' "$out" | tr -s ' ' | cut -c1-80))"
