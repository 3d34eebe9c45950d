#!/bin/sh
# tests/run.sh: run every test binary in $BUILD/tests against a throwaway
# PostgreSQL, and end with one line a CI can read: "N passed, N failed".
#
# Unit tests first (fast), then the integration suites, then, when clang
# is there, the libFuzzer harnesses of tests/fuzz/ for HL_FUZZ_SECONDS (30)
# each, two at a time, one test apiece. Each binary's own cmocka summary is
# kept in $BUILD/test-logs/<name>.log; failures print it.
# HL_VALGRIND=1 runs unit tests under valgrind memcheck (and the cluster's
# daemons, in the integration tests that support it). With --soak it runs
# the soak tests (tests/soak, `make soak`) instead, and only them.
# HL_TESTS=unit runs the unit tests alone (make asan-unit);
# HL_FUZZ_SECONDS=0 skips fuzzing.
set -u
soak=0
[ "${1:-}" = --soak ] && soak=1
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs="$BUILD/test-logs"
rm -rf "$logs"
mkdir -p "$logs"

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/hl-test-pg-XXXXXX")
pgport=$(shuf -i 40000-59999 -n 1)
if ! url=$(scripts/pg.sh start "$pgdir" "$pgport"); then
    echo "could not start the test PostgreSQL"
    echo "0 passed, 1 failed"
    exit 1
fi
export HL_TEST_PG="${url%/hongling}/postgres"
export BUILD
cleanup() { scripts/pg.sh remove "$pgdir"; rm -rf "$pgdir"; }
trap cleanup EXIT INT TERM

passed=0
failed=0
failed_names=""
run_one() {
    bin=$1
    name=$(basename "$bin")
    log="$logs/$name.log"
    start=$(date +%s)
    if [ "${HL_VALGRIND:-}" = 1 ] && [ "${2:-}" = unit ]; then
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            "$bin" >"$log" 2>&1
    else
        "$bin" >"$log" 2>&1
    fi
    rc=$?
    secs=$(( $(date +%s) - start ))
    # Summed over the binary's cmocka groups (test_int_journey runs two).
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{n += $1} END {print n + 0}')
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed, or a leak/sanitizer report without a failed test
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        printf '  FAIL %-28s %3d passed %3d failed  (%ss)\n' "$name" "$p" "$f" "$secs"
        sed 's/^/       | /' "$log" | tail -n 60
        failed_names="$failed_names $name"
    else
        printf '  ok   %-28s %3d passed            (%ss)\n' "$name" "$p" "$secs"
    fi
}

# The line a CI reads; exits 0 only when nothing failed.
summary() {
    [ -n "$failed_names" ] && echo "failed:$failed_names (logs in $logs)"
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if [ "$soak" -eq 1 ]; then
    echo "soak tests:"
    for t in "$BUILD"/tests/test_soak_*; do
        [ -x "$t" ] || continue
        run_one "$t" integration
    done
    summary
fi

echo "unit tests:"
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$(basename "$t")" in test_int_* | test_soak_*) continue ;; esac
    run_one "$t" unit
done
if [ "${HL_TESTS:-all}" != unit ]; then
    # The database's grants and reporting views (pgTAP), and the data
    # dictionary generated from them.
    echo "database tests:"
    run_one tests/pgtap.sh database
    run_one tests/docs.sh database
    echo "integration tests:"
    for t in "$BUILD"/tests/test_int_*; do
        [ -x "$t" ] || continue
        run_one "$t" integration
    done
    # Three hosts in network namespaces, CURVE on, one cut off for a while
    # (skips itself without root or iproute2).
    if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1; then
        run_one tests/netns.sh integration
    fi
    # make run's PostgreSQL from a clone in a 0700 directory (skips without
    # root), and make run with a daemon's port taken.
    run_one tests/pg-clone.sh integration
    run_one tests/run-port.sh integration
    # A tuning set through the real daemons scores as the in-memory replay does.
    run_one tests/eval-live.sh integration
    # make bench still runs and prints every figure (a few hundred appeals).
    run_one tests/bench-smoke.sh integration
fi

# The harnesses are built by clang in their own tree (build-fuzz), whatever
# $BUILD is; a failed build counts as one failed test.
fuzz_secs=${HL_FUZZ_SECONDS:-30}
[ "${HL_TESTS:-all}" = unit ] && fuzz_secs=0
if [ "$fuzz_secs" != 0 ] && command -v clang >/dev/null 2>&1; then
    echo "fuzz tests (${fuzz_secs}s each, two at a time):"
    if make --no-print-directory -j2 fuzz-build >"$logs/fuzz-build.log" 2>&1; then
        BUILD=build-fuzz tests/fuzz/run.sh "$fuzz_secs" "$logs/fuzz-counts"
        read -r p f <"$logs/fuzz-counts"
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$f" -ne 0 ] && failed_names="$failed_names fuzz"
    else
        printf '  FAIL %-28s (log %s)\n' "fuzz build" "$logs/fuzz-build.log"
        tail -n 30 "$logs/fuzz-build.log" | sed 's/^/       | /'
        failed=$((failed + 1))
        failed_names="$failed_names fuzz-build"
    fi
fi
summary
