#!/bin/sh
# Installs what hongling needs from Debian's packages, only what is missing.
# Runs as root, or through sudo for a normal user. `deps.sh --fuzz` adds
# clang and libFuzzer (make fuzz); `deps.sh --test` adds those and what
# only the tests need (headless Chromium for the resident form test,
# pgTAP and pg_prove for the database tests, python3 for scripts/eval-live.py
# in tests/eval-live.sh).
set -eu
PKGS="build-essential pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
libuv1-dev libmicrohttpd-dev libjansson-dev libcmocka-dev libpq-dev libcurl4-openssl-dev
libqrencode-dev libpng-dev postgresql-15 postgresql-client-15 curl jq valgrind
clang-format iproute2 procps"
FUZZ_PKGS="clang libfuzzer-14-dev"
case "${1:-}" in
--test) PKGS="$PKGS python3 chromium postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl $FUZZ_PKGS" ;;
--fuzz) PKGS="$PKGS $FUZZ_PKGS" ;;
esac
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# is a virtual name on bookworm (contrib is in postgresql-15).
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
