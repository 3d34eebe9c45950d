#!/bin/sh
# tests/fuzz/run.sh SECONDS [COUNTS]: runs every libFuzzer harness built in
# $BUILD/fuzz/ (`make fuzz-build`: BUILD=build-fuzz) for SECONDS each, two
# at a time, from its seeds in tests/fuzz/<name>/corpus (and its dict, if
# any). A harness passes when its run ends without a crash, a leak, a
# timeout (10 s on one input) or a sanitizer report. Prints one line per
# harness with its executions, then "N passed, N failed"; with COUNTS,
# writes "N M" to that file instead of the last line (tests/run.sh adds
# them to its own). What the fuzzer found new stays in
# $BUILD/fuzz-logs/<name>.corpus/, a crashing input in
# $BUILD/fuzz-logs/<name>-crash-*; to replay one: $BUILD/fuzz/fuzz_<name> FILE.
set -u
BUILD=${BUILD:-build-fuzz}
secs=${1:-60}
counts=${2:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
logs="$BUILD/fuzz-logs"
rm -rf "$logs"
mkdir -p "$logs"

# Runs harness $1 in the background of the caller; its exit status goes to
# $logs/$1.rc.
fuzz_one() {
    name=$1
    set -- -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$logs/$name-"
    [ -f "tests/fuzz/$name/dict" ] && set -- "$@" -dict="tests/fuzz/$name/dict"
    mkdir -p "$logs/$name.corpus"
    "$BUILD/fuzz/fuzz_$name" "$@" "$logs/$name.corpus" "tests/fuzz/$name/corpus" \
        >"$logs/$name.log" 2>&1
    echo $? >"$logs/$name.rc"
}

passed=0
failed=0
report() {
    name=$1
    rc=$(cat "$logs/$name.rc")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$name.log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        passed=$((passed + 1))
        printf '  ok   fuzz_%-23s %9s runs in %ss\n' "$name" "$execs" "$secs"
    else
        failed=$((failed + 1))
        printf '  FAIL fuzz_%-23s exit %s (log %s)\n' "$name" "$rc" "$logs/$name.log"
        grep -v '^#[0-9]' "$logs/$name.log" | tail -n 40 | sed 's/^/       | /'
    fi
}

names=""
for bin in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$bin" ] && names="$names ${bin##*/fuzz_}"
done
set -- $names
while [ $# -gt 0 ]; do
    first=$1
    shift
    fuzz_one "$first" &
    second=""
    if [ $# -gt 0 ]; then
        second=$1
        shift
        fuzz_one "$second" &
    fi
    wait
    report "$first"
    [ -n "$second" ] && report "$second"
done
if [ -n "$counts" ]; then
    echo "$passed $failed" >"$counts"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
