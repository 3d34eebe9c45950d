#!/bin/sh
# deploy/keys.sh: the files docker-compose.yml reads its secrets from.
#
#   deploy/keys.sh [DIR]     (DIR defaults to deploy/)
#
# Writes, without overwriting anything that exists:
#   DIR/keys/hl-bus.{key,pub}        the buses' CURVE pair (one for both buses)
#   DIR/keys/hl-<daemon>.{key,pub}   one pair per daemon
#   DIR/keys/allowed/*.pub           the daemons' public keys the buses admit
#   DIR/secrets/pg_password          PostgreSQL's superuser password
#   DIR/secrets/pgpass               the same for libpq (PGPASSFILE format)
# The containers run as uid 10001, so as root the secret files are given to
# that uid (mode 0600); otherwise do that yourself (sudo chown 10001 ...).
# HLCTL names the hlctl binary (default build/bin/hlctl, else `hlctl`).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/deploy}
hlctl=${HLCTL:-$top/build/bin/hlctl}
[ -x "$hlctl" ] || hlctl=hlctl
mkdir -p "$dir/keys/allowed" "$dir/secrets"
for k in hl-bus hl-intake hl-triage hl-bounty hl-points hl-alliance; do
    [ -f "$dir/keys/$k.key" ] || "$hlctl" keygen "$k" --out "$dir/keys" >/dev/null
    [ "$k" = hl-bus ] || cp "$dir/keys/$k.pub" "$dir/keys/allowed/$k.pub"
done
if [ ! -f "$dir/secrets/pg_password" ]; then
    umask 077
    head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/secrets/pg_password"
    printf '*:*:*:postgres:%s\n' "$(cat "$dir/secrets/pg_password")" >"$dir/secrets/pgpass"
fi
chmod 0600 "$dir"/keys/*.key "$dir/secrets/pg_password" "$dir/secrets/pgpass"
chmod 0644 "$dir"/keys/*.pub "$dir"/keys/allowed/*.pub
if [ "$(id -u)" -eq 0 ]; then
    chown 10001:10001 "$dir"/keys/*.key "$dir/secrets/pgpass"
    # The official postgres image reads its password file as root first.
fi
echo "keys in $dir/keys, database password in $dir/secrets"
