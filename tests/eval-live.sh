#!/bin/sh
# tests/eval-live.sh: the live path decides as the offline evaluation does.
# scripts/eval-live.sh posts a tuning set through hl-intake to hl-triage and
# scores triage.case; test_triage_eval replays the same set in memory. The
# figures must agree (to 0.02: the live index learns its word weights from
# what the database holds, the replay from the set alone). A difference means
# the evaluation no longer measures the daemon. Prints a cmocka-style summary.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
t_name=eval_live
t_prefix=eval-live
. "$top/tests/support/hl_shtest.sh"
t_logs="$t_work/*.out"
set=tests/data/triage-tune.jsonl
[ -r "$set" ] || t_skip "no $set"
command -v python3 >/dev/null 2>&1 || t_skip "needs python3"
BUILD=$BUILD scripts/eval-live.sh "$set" >"$t_work/live.out" 2>&1 || t_fail "eval-live.sh failed"
HL_EVAL_TUNING_ONLY=1 HL_EVAL_SETS=$set "$BUILD/tests/test_triage_eval" >"$t_work/replay.out" 2>&1 ||
    t_fail "test_triage_eval failed"
live=$(grep -o 'size [0-9.]* (routed [0-9.]*); precision [0-9.]* recall [0-9.]* F1 [0-9.]*' "$t_work/live.out" |
       grep -o '[0-9]\.[0-9]*' | tr '\n' ' ')
replay=$(grep -o 'size accuracy [0-9.]* (as routed, the item.s size: [0-9.]*); same item: precision [0-9.]* recall [0-9.]* F1 [0-9.]*' \
         "$t_work/replay.out" | grep -o '[0-9]\.[0-9]*' | tr '\n' ' ')
[ -n "$live" ] && [ -n "$replay" ] || t_fail "no figures (live: '$live', replay: '$replay')"
echo "$live" >"$t_work/figures.out"
echo "$replay" >>"$t_work/figures.out"
echo "$live $replay" | awk '{for (i = 1; i <= 5; i++) { d = $i - $(i + 5); if (d < 0) d = -d;
                                   if (d > 0.02) exit 1 }}' ||
    t_fail "live ($live) and replay ($replay) disagree: size, routed, precision, recall, F1"
t_pass "live and replay agree on $set: $live"
