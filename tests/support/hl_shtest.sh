# hl_shtest.sh: what the shell tests share; sourced, not run. Each prints a
# cmocka-style summary so tests/run.sh counts it like a test binary.
#
# Before sourcing, set t_name (the test as listed on failure) and t_prefix
# (what its own lines start with). Sourcing makes the work directory
# $t_work (kept on failure or with HL_KEEP), defaults BUILD to build, and
# sets the traps: EXIT runs t_finish, INT and TERM exit 1. A test with
# cleanup of its own sets `trap cleanup EXIT` and ends cleanup with t_finish.
# On failure the last lines of every file matching the glob in $t_logs are
# shown.
#
#   t_skip WHY       nothing to test here: 0 tests, $t_work removed, exit 0
#   t_fail WHY       the test failed: exit 1
#   t_pass SUMMARY   the test passed; exit 0 follows at the end of the script
#   t_finish         for the EXIT trap, after the test's own cleanup: removes
#                    $t_work when the test passed (and HL_KEEP is unset)
: "${t_name:?set t_name before sourcing}" "${t_prefix:?set t_prefix before sourcing}"
t_work=$(mktemp -d "${TMPDIR:-/tmp}/hl-$t_prefix-XXXXXX")
t_ok=0
t_logs=${t_logs:-}

t_skip() {
    echo "$t_prefix: skipped: $1"
    echo "[==========] 0 test(s) run."
    echo "[  PASSED  ] 0 test(s)."
    rm -rf "$t_work"
    t_ok=1
    exit 0
}

t_fail() {
    echo "$t_prefix: FAILED: $*"
    for f in $t_logs; do
        [ -f "$f" ] || continue
        echo "---- $f (last lines)"
        tail -n 15 "$f"
    done
    echo "[==========] 1 test(s) run."
    echo "[  FAILED  ] 1 test(s), listed below:"
    echo "[  FAILED  ] $t_name"
    exit 1
}

t_pass() {
    echo "$t_prefix: $*"
    t_ok=1
    echo "[==========] 1 test(s) run."
    echo "[  PASSED  ] 1 test(s)."
}

t_finish() {
    if [ "$t_ok" -eq 1 ] && [ -z "${HL_KEEP:-}" ]; then
        rm -rf "$t_work"
    else
        echo "$t_prefix: kept $t_work"
    fi
}

BUILD=${BUILD:-build}
trap t_finish EXIT
trap 'exit 1' INT TERM
