#!/bin/sh
# tests/pgtap.sh: the database's own promises, proved with pgTAP
# (tests/pgtap/test_*.sql): who may read and write what, and what the
# reporting views show. Needs the throwaway PostgreSQL of tests/run.sh
# (HL_TEST_PG) and Debian's postgresql-15-pgtap; runs the files with pg_prove
# when it is installed (libtap-parser-sourcehandler-pgtap-perl), else psql.
#
# A database of its own is migrated and seeded like `make run`'s, pgTAP and
# tests/pgtap/helpers.sql go into schema tap (no hongling role can use it),
# and every test file runs in a transaction it rolls back. Ends with cmocka's
# summary lines, which tests/run.sh counts: one test per TAP assertion.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
admin=${HL_TEST_PG:-}
if [ -z "$admin" ]; then
    echo "pgtap: HL_TEST_PG is not set (run through tests/run.sh); skipped"
    echo "[  PASSED  ] 0 test(s)."
    exit 0
fi
db=hl_pgtap
url="${admin%/*}/$db"
out=$(mktemp "${TMPDIR:-/tmp}/hl-pgtap-XXXXXX")
trap 'rm -f "$out"' EXIT

fail() {
    echo "pgtap: $*"
    echo "[  FAILED  ] 1 test(s), listed below:"
    echo "[  FAILED  ] pgtap_setup"
    exit 1
}

psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >"$out" 2>&1 ||
    fail "could not create the database: $(cat "$out")"
HL_DATABASE_URL=$url "$BUILD/bin/hlctl" migrate >"$out" 2>&1 || fail "migration failed: $(cat "$out")"
HL_DATABASE_URL=$url "$BUILD/bin/hlctl" seed-demo >"$out" 2>&1 || fail "seed failed: $(cat "$out")"
psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "CREATE SCHEMA tap" -c "CREATE EXTENSION pgtap SCHEMA tap" \
    -f tests/pgtap/helpers.sql >"$out" 2>&1 ||
    fail "could not install pgTAP (Debian package postgresql-15-pgtap): $(cat "$out")"

# One TAP stream per file; assertions are counted from "ok N" / "not ok N".
rc=0
if command -v pg_prove >/dev/null 2>&1; then
    pg_prove --verbose --dbname "$url" tests/pgtap/test_*.sql >"$out" 2>&1 || rc=$?
else
    for f in tests/pgtap/test_*.sql; do
        echo "$f"
        psql -X -q -At -v ON_ERROR_STOP=1 -d "$url" -f "$f" 2>&1 || rc=1
    done >"$out"
fi
cat "$out"
passed=$(grep -c '^[[:space:]]*ok [0-9]' "$out")
failed=$(grep -c '^[[:space:]]*not ok [0-9]' "$out")
# A file that died or ran other than the tests it planned fails as one more.
grep -q 'Looks like you planned' "$out" && rc=1
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -ne 0 ]; then
    echo "[  FAILED  ] $failed test(s), listed below:"
    grep '^[[:space:]]*not ok [0-9]' "$out" | sed 's/^[[:space:]]*/[  FAILED  ] /'
    exit 1
fi
psql -X -q -d "$admin" -c "DROP DATABASE $db" >/dev/null 2>&1
exit 0
