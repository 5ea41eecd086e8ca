#!/usr/bin/env bash
# Prints the gzipped size of the built browser app (dist/*.wasm + *.js).
set -euo pipefail
dist=${1:-dist}
total=0
printf '    %-44s %10s %10s\n' file bytes gzipped
for f in "$dist"/*.wasm "$dist"/*.js; do
    [ -f "$f" ] || continue
    raw=$(wc -c <"$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    total=$((total + gz))
    printf '    %-44s %10d %10d\n' "$(basename "$f")" "$raw" "$gz"
done
printf '    %-44s %10s %10d  (goal: <= 350 KB)\n' "wasm + js, gzipped" "" "$total"
