#!/usr/bin/env bash
# cv-scorer.sh: how hl-triage's pair model does on text it was not fitted
# on, and the threshold the rule picks from that (services/triage/README.md).
#
#   scripts/cv-scorer.sh [FOLD ...]
#
# A FOLD is a comma-separated list of labelled sets (default: the eleven
# tuning sets in seven folds: four of two, then tune9, tune10 and tune11). For each fold the model is fitted on the
# other folds (scripts/fit-scorer.py) and replayed on that one over a range
# of thresholds; the table is the mean out-of-fold precision, recall and F1.
# The rule: the lowest threshold whose out-of-fold precision is at least
# 0.90. The held-out sets play no part. services/triage/scorer_model.h is
# put back as it was; the test binary is rebuilt with it. Set
# HL_EVAL_SIZES_FROM to fit-size.py --oof's file (scripts/fit-scorer.py):
# the pairs then carry out-of-fold sizes, as the model will see.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
D=tests/data
folds=("$@")
if ((${#folds[@]} == 0)); then
    folds=("$D/triage-tune.jsonl,$D/triage-tune2.jsonl" "$D/triage-tune3.jsonl,$D/triage-tune4.jsonl"
        "$D/triage-tune5.jsonl,$D/triage-tune6.jsonl" "$D/triage-tune7.jsonl,$D/triage-tune8.jsonl"
        "$D/triage-tune9.jsonl" "$D/triage-tune10.jsonl" "$D/triage-tune11.jsonl")
fi
((${#folds[@]} >= 2)) || { echo "cv-scorer: give at least two folds" >&2; exit 2; }

W=services/triage/scorer_model.h
work=$(mktemp -d)
cp "$W" "$work/model.h"
restore() {
    cp "$work/model.h" "$W"
    make -s "$BUILD/tests/test_triage_eval" >/dev/null
    rm -rf "$work"
}
trap restore EXIT

make -s "$BUILD/tests/test_triage_eval" >/dev/null
for i in "${!folds[@]}"; do
    fit=""
    for j in "${!folds[@]}"; do
        [[ $j == "$i" ]] || fit+="${fit:+,}${folds[$j]}"
    done
    HL_EVAL_TUNING_ONLY=1 HL_EVAL_SETS=$fit HL_EVAL_PAIRS=1 "$BUILD/tests/test_triage_eval" 2>/dev/null |
        scripts/fit-scorer.py >"$work/fold.h"
    cp "$work/fold.h" "$W"
    make -s "$BUILD/tests/test_triage_eval" >/dev/null
    # "# sweep threshold 0.20 -> P 0.716 R 0.908 F1 0.801"
    HL_EVAL_TUNING_ONLY=1 HL_EVAL_SETS=${folds[$i]} HL_EVAL_SWEEP=1 "$BUILD/tests/test_triage_eval" 2>&1 |
        awk '/^# sweep threshold/ { print $4, $7, $9, $11 }' >"$work/sweep.$i"
done

sort -s -k1,1n "$work"/sweep.* | awk -v k="${#folds[@]}" '
    function flush() {
        if (!n) return
        printf "%9s  %9.3f  %6.3f  %5.3f\n", t, p / n, r / n, f / n
        if (pick == "" && p / n >= 0.90) pick = t
    }
    BEGIN { printf "threshold  precision  recall  F1   (mean of %d folds, out of fold)\n", k }
    $1 != t { flush(); t = $1; p = r = f = n = 0 }
    { p += $2; r += $3; f += $4; n++ }
    END {
        flush()
        printf "rule (lowest threshold with out-of-fold precision >= 0.90): %s\n", pick == "" ? "none" : pick
    }'
