#!/usr/bin/env bash
# Smoke test of a provisioned engine: start it on a private unix socket with
# its three modules, check that they loaded and that JSON, Search and Vector
# Sets answer, then stop it. Usage: engine-smoke.sh [ENGINE_DIR]
set -euo pipefail

ENGINE=${1:-.engine}
ENGINE=$(cd "$ENGINE" && pwd)
run=$(mktemp -d)
chmod 700 "$run"
sock=$run/redis.sock
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$run"
}
trap cleanup EXIT

"$ENGINE/bin/redis-server" --port 0 --unixsocket "$sock" --unixsocketperm 700 \
    --dir "$run" --save "" --appendonly no --logfile "$run/log" \
    --loadmodule "$ENGINE/lib/rejson.so" \
    --loadmodule "$ENGINE/lib/redisearch.so" \
    --loadmodule "$ENGINE/lib/redisbloom.so" &
pid=$!

cli() { redis-cli -s "$sock" "$@"; }
for _ in $(seq 100); do
    [ "$(cli PING 2>/dev/null)" = PONG ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$run/log" >&2; echo "    engine exited during start-up" >&2; exit 1; }
    sleep 0.05
done
[ "$(cli PING)" = PONG ] || { echo "    engine never answered PING" >&2; exit 1; }

fail=0
expect() { # description, expected substring, command…
    local what=$1 want=$2
    shift 2
    local got
    got=$(cli "$@" 2>&1 | tr '\n' ' ')
    if [[ $got == *"$want"* ]]; then
        printf '    ok: %s\n' "$what"
    else
        printf '    FAIL: %s: expected "%s", got "%s"\n' "$what" "$want" "$got" >&2
        fail=1
    fi
}

modules=$(cli MODULE LIST | tr '\n' ' ')
for name in ReJSON search bf; do
    if [[ " $modules " == *" $name "* ]]; then printf '    ok: module %s loaded\n' "$name"; else
        printf '    FAIL: module %s missing from MODULE LIST: %s\n' "$name" "$modules" >&2
        fail=1
    fi
done
expect "JSON.SET" OK JSON.SET smoke:doc '$' '{"model":"m1","score":0.5}'
expect "JSON.GET" '"m1"' JSON.GET smoke:doc '$.model'
expect "FT.CREATE ON HASH" OK FT.CREATE smoke:idx ON HASH PREFIX 1 smoke:m: SCHEMA name TEXT score NUMERIC SORTABLE
cli HSET smoke:m:1 name fraud score 0.9 >/dev/null
expect "FT.SEARCH" smoke:m:1 FT.SEARCH smoke:idx fraud
expect "VADD" 1 VADD smoke:vec VALUES 3 1 0 0 item:a
cli VADD smoke:vec VALUES 3 0 1 0 item:b >/dev/null
expect "VSIM" item:a VSIM smoke:vec VALUES 3 0.9 0.1 0 COUNT 1
exit $fail
