#!/bin/sh
# bench-stored.sh (make bench-stored): issue 8's "cost per appeal with a
# million stored", measured the only fair way on a shared machine: runs of
# tests/bench.sh with nothing stored and with HL_BENCH_STORED stored
# (1000000 unless set), back to back, alternating HL_BENCH_PAIRS times (1),
# each printed whole, then each pair's end-to-end and intake rates and the
# ratio stored / empty (the issue asks for at least 0.8).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
STORED=${HL_BENCH_STORED:-1000000}
PAIRS=${HL_BENCH_PAIRS:-1}
export HL_BENCH_APPEALS="${HL_BENCH_APPEALS:-10000}"
out=$(mktemp -d "${TMPDIR:-/tmp}/hl-bench-stored-XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM
# "  end to end: posted -> ...   2135 appeals/s ..." -> 2135
rate() { sed -n "s/^  $2.* \([0-9][0-9]*\) appeals\/s.*/\1/p" "$1" | head -1; }
i=1
while [ "$i" -le "$PAIRS" ]; do
    for s in 0 "$STORED"; do
        echo "== pair $i, $s stored"
        HL_BENCH_STORED=$s tests/bench.sh | tee "$out/$i.$s"
    done
    i=$((i + 1))
done
echo
printf '  %-6s %12s %12s %12s %12s %8s\n' pair "intake 0" "e2e 0" "intake $STORED" "e2e $STORED" "e2e ratio"
i=1
while [ "$i" -le "$PAIRS" ]; do
    e0=$(rate "$out/$i.0" "end to end:"); en=$(rate "$out/$i.$STORED" "end to end:")
    i0=$(rate "$out/$i.0" "hl-intake alone:"); in=$(rate "$out/$i.$STORED" "hl-intake alone:")
    printf '  %-6s %12s %12s %12s %12s %8s\n' "$i" "$i0" "$e0" "$in" "$en" \
        "$(echo "$en $e0" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }')"
    i=$((i + 1))
done
