# free-ports.sh: sourced, not run. hl_free_base COUNT LOW [OFFSET] prints a
# port B in LOW..LOW+3999 such that nothing listens on B..B+COUNT-1 (nor, with
# OFFSET, on B+OFFSET..B+OFFSET+COUNT-1). Ports stay below 32768, out of the
# kernel's range for outgoing connections, so a test's own connections never
# take them. Used by tests/bench.sh, scripts/eval-live.sh, tests/run-port.sh.
hl_free_base() {
    while :; do
        _b=$(shuf -i "$2"-$(($2 + 3999)) -n 1)
        _busy=0
        for _p in $(seq "$_b" $((_b + $1 - 1))) ${3:+$(seq $((_b + $3)) $((_b + $3 + $1 - 1)))}; do
            ss -Hltn "sport = :$_p" | grep -q . && _busy=1 && break
        done
        [ "$_busy" -eq 0 ] && echo "$_b" && return
    done
}
