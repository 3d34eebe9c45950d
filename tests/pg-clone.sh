#!/bin/sh
# tests/pg-clone.sh: `make run`'s PostgreSQL from a clone inside a 0700
# directory, as root (like /root/x). PostgreSQL runs as user "hongling",
# which cannot traverse such a directory: scripts/pg.sh must keep the cluster
# where that user reaches it, say so, leave the directory's mode alone, and
# `make stop` (scripts/stop.sh) must still find and stop it; a second start
# finds the same data.
#
# The clone gets this working tree's scripts/ on top, so what is tested is
# the scripts as they are now, committed or not. Needs root (skips without);
# prints a cmocka-style summary so tests/run.sh can count it.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
t_name=pg_clone_0700
t_prefix=pg-clone
. "$top/tests/support/hl_shtest.sh"
work=$t_work
clone="$work/x"
var="$clone/var"
t_logs="$work/*.out $var/postgresql.log $var/initdb.log"
cleanup() {
    [ -x "$clone/scripts/pg.sh" ] && "$clone/scripts/pg.sh" remove "$var" >/dev/null 2>&1
    t_finish
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || t_skip "needs root"
command -v git >/dev/null 2>&1 || t_skip "needs git"

chmod 0700 "$work"
git clone -q "$top" "$clone" || t_fail "git clone $top"
cp "$top"/scripts/*.sh "$clone/scripts/"
port=$(shuf -i 40000-59999 -n 1)
while ss -Hltn "sport = :$port" | grep -q .; do port=$(shuf -i 40000-59999 -n 1); done

# The trap this test is about: the first start creates "hongling" if needed,
# so look at its reach afterwards.
"$clone/scripts/pg.sh" start "$var" "$port" >"$work/start.out" 2>"$work/start-err.out" ||
    t_fail "pg.sh start failed"
runuser -u hongling -- test -x "$clone" 2>/dev/null &&
    t_fail "user hongling can reach $clone: the 0700 trap did not happen"
url=$(cat "$work/start.out")
[ "$url" = "postgresql://postgres@127.0.0.1:$port/hongling" ] || t_fail "pg.sh printed \"$url\""
grep -q "cannot reach $var" "$work/start-err.out" || t_fail "pg.sh did not say why it moved the cluster"
home=$(dirname "$(readlink "$var/pgdata")")
case "$home" in
/var/lib/hongling/*) ;;
*) t_fail "the cluster is in \"$home\", not under /var/lib/hongling" ;;
esac
grep -q "$home" "$work/start-err.out" || t_fail "pg.sh did not say where the cluster is"
[ "$(stat -c %a "$work")" = 700 ] || t_fail "the mode of $work changed to $(stat -c %a "$work")"
psql -X -qtA "$url" -c "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('kept')" ||
    t_fail "could not write to the new cluster"

# make stop, then a second start that finds the same data.
HL_VAR="$var" "$clone/scripts/stop.sh" >"$work/stop.out" 2>&1 || t_fail "stop.sh failed"
grep -q "stopped PostgreSQL" "$work/stop.out" || t_fail "stop.sh did not stop PostgreSQL"
psql -X -qtA "$url" -c "SELECT 1" >/dev/null 2>&1 && t_fail "PostgreSQL still answers after stop.sh"
runuser -u hongling -- /usr/lib/postgresql/*/bin/pg_ctl -D "$home/pgdata" status >/dev/null 2>&1 &&
    t_fail "pg_ctl says the cluster still runs after stop.sh"
"$clone/scripts/pg.sh" start "$var" "$port" >"$work/restart.out" 2>&1 || t_fail "second start failed"
[ "$(psql -X -qtA "$url" -c "SELECT v FROM marker")" = kept ] || t_fail "the second start lost the data"
HL_VAR="$var" "$clone/scripts/stop.sh" >"$work/stop2.out" 2>&1 || t_fail "second stop.sh failed"

"$clone/scripts/pg.sh" remove "$var" 2>"$work/remove.out" || t_fail "pg.sh remove failed"
[ -e "$home" ] && t_fail "pg.sh remove left $home"
t_pass "a clone in a 0700 directory kept its cluster in $home; stop.sh stopped it, a second start found its data, remove deleted it"
