#!/bin/sh
# tests/docs.sh: docs/reporting.md is what `make docs` makes from the
# catalogue of a freshly migrated database now (scripts/reporting-doc.sh).
# One test, counted by tests/run.sh from cmocka's summary lines.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fresh=$(mktemp "${TMPDIR:-/tmp}/hl-doc-XXXXXX")
trap 'rm -f "$fresh"' EXIT
if ! scripts/reporting-doc.sh --fresh >"$fresh"; then
    echo "[  FAILED  ] 1 test(s), listed below:"
    echo "[  FAILED  ] reporting_doc_generates"
    exit 1
fi
if diff -u docs/reporting.md "$fresh"; then
    echo "docs/reporting.md matches the catalogue"
    echo "[  PASSED  ] 1 test(s)."
    exit 0
fi
echo "docs/reporting.md is stale: run 'make docs' and commit it"
echo "[  FAILED  ] 1 test(s), listed below:"
echo "[  FAILED  ] reporting_doc_fresh"
exit 1
