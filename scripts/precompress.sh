#!/usr/bin/env bash
# Trunk's post-build hook (Trunk.toml): writes a gzip copy, and a brotli
# one when a `brotli` command is installed, beside each file of the built
# app. The server sends the copy the browser accepts as it is, with its
# Content-Encoding (backend/src/http/assets.rs): compressed once at the
# best level, never per request.
set -euo pipefail
dir=${TRUNK_STAGING_DIR:-${1:-dist}}
for f in "$dir"/*.wasm "$dir"/*.js "$dir"/*.css "$dir"/*.html; do
    [ -f "$f" ] || continue
    gzip -9 -n -k -f "$f"
    if command -v brotli >/dev/null; then
        brotli -q 11 -k -f "$f"
    fi
done
