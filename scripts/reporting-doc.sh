#!/bin/sh
# reporting-doc.sh: the analysts' data dictionary (docs/reporting.md), made
# from the database catalogue: every reporting view and column with its type
# and COMMENT, and the headline figures. `make docs` writes it; tests/docs.sh
# (in `make test`) fails when the checked-in file is not what this prints.
#
#   scripts/reporting-doc.sh URL      the dictionary of the migrated database at URL
#   scripts/reporting-doc.sh --fresh  migrate a new database ($BUILD/bin/hlctl) and print
#                                     its dictionary: on the server of HL_TEST_PG when set,
#                                     else on a throwaway PostgreSQL (scripts/pg.sh)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in
/*) hlctl=$BUILD/bin/hlctl ;;
*) hlctl=$top/$BUILD/bin/hlctl ;;
esac

print_doc() {
    q() { psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
    # A comment goes into one table cell: no newlines, pipes escaped.
    cell="replace(replace(coalesce(%s, ''), E'\\n', ' '), '|', '\\|')"
    desc=$(printf "$cell" "obj_description(c.oid, 'pg_class')")
    coldesc=$(printf "$cell" "col_description(c.oid, a.attnum)")
    cat <<'HEAD'
# The reporting schema: a data dictionary

Generated from the database catalogue by `make docs` (`scripts/reporting-doc.sh`);
`make test` fails when it is stale. Do not edit it: change the `COMMENT ON` in a
migration and run `make docs`.

HEAD
    q "$1" "SELECT obj_description('reporting'::regnamespace, 'pg_namespace')"
    cat <<'HEAD'

Connect as a login that is a member of `hl_analyst` (see "For analysts" in the
README); it can read these views and nothing else. Months and quarters are the
first day of the period in Beijing time.

| view | what it holds |
|---|---|
HEAD
    q "$1" "SELECT format('| [%s](#reporting%s) | %s |', c.relname, c.relname, $desc)
              FROM pg_class c WHERE c.relnamespace = 'reporting'::regnamespace
               AND c.relkind IN ('v', 'm') ORDER BY c.relname"
    for view in $(q "$1" "SELECT relname FROM pg_class WHERE relnamespace = 'reporting'::regnamespace
                            AND relkind IN ('v', 'm') ORDER BY relname"); do
        printf '\n## reporting.%s\n\n' "$view"
        q "$1" "SELECT $desc FROM pg_class c
                 WHERE c.relnamespace = 'reporting'::regnamespace AND c.relname = '$view'"
        printf '\n| column | type | meaning |\n|---|---|---|\n'
        q "$1" "SELECT format('| %s | %s | %s |', a.attname, format_type(a.atttypid, a.atttypmod), $coldesc)
                  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                 WHERE c.relnamespace = 'reporting'::regnamespace AND c.relname = '$view'
                   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
    done
    cat <<'HEAD'

## The headline figures

`reporting.headline` computes each figure the report states; those the system
does not record have no value.

| # | figure | report | what | computed as |
|---|---|---|---|---|
HEAD
    q "$1" "SELECT format('| %s | %s | %s | %s (%s) | %s |', ord, figure, report_text, label, label_zh,
                          replace(definition, '|', '\\|'))
              FROM reporting.headline ORDER BY ord"
}

if [ "${1:-}" != "--fresh" ]; then
    print_doc "${1:?usage: reporting-doc.sh URL | --fresh}"
    exit 0
fi

db=hl_reporting_doc
pgdir=""
if [ -n "${HL_TEST_PG:-}" ]; then
    admin=$HL_TEST_PG
else
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/hl-doc-pg-XXXXXX")
    url=$("$top/scripts/pg.sh" start "$pgdir" "$(shuf -i 40000-59999 -n 1)")
    admin="${url%/*}/postgres"
fi
cleanup() {
    psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    if [ -n "$pgdir" ]; then
        "$top/scripts/pg.sh" stop "$pgdir"
        rm -rf "$pgdir"
    fi
}
trap cleanup EXIT
url="${admin%/*}/$db"
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "$admin" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
HL_DATABASE_URL=$url "$hlctl" migrate >/dev/null 2>&1 ||
    { echo "reporting-doc: migration failed (is $hlctl built?)" >&2; exit 1; }
print_doc "$url"
