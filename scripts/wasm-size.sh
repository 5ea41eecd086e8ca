#!/usr/bin/env bash
# The browser apps' size, gzipped (gzip -9, as scripts/precompress.sh
# writes it for the server): the learner's first load (every .wasm, .js
# and .css that dist/index.html names, so a lesson page with its console
# loads it before it works), its lazy part (any other .wasm or .js in
# dist/, fetched on demand), and, apart, the instructor's app in
# dist/classroom/ (/instructor and /projector, which no learner loads). `--check` exits 1 when the first load is over its budget, which
# `make test` runs. docs/benchmarks.md ("Browser app size") keeps the
# history and what the budget is made of.
set -euo pipefail

# The budget: what the first load is today plus a small margin, so a
# regression fails `make test`. The one place this number lives.
FIRST_LOAD_BUDGET=560000
# Issue 15's goals, printed beside the totals.
FIRST_LOAD_GOAL=200000
TOTAL_GOAL=400000

check=false
if [ "${1:-}" = "--check" ]; then
    check=true
    shift
fi
dist=${1:-dist}
index=$dist/index.html
[ -f "$index" ] || { echo "wasm-size: $index is missing: build the app first (make frontend)" >&2; exit 1; }

# Every /<name>.(wasm|js|css) index.html refers to.
first_load=$(grep -oE '/[A-Za-z0-9_.-]+\.(wasm|js|css)' "$index" | sed 's|^/||' | sort -u)

first=0
first_br=0
lazy=0
printf '    %-44s %-10s %10s %10s\n' file part bytes gzipped
for f in "$dist"/*.wasm "$dist"/*.js "$dist"/*.css; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    raw=$(wc -c <"$f")
    gz=$(gzip -9 -n -c "$f" | wc -c)
    if grep -qxF "$name" <<<"$first_load"; then
        part="first load"
        first=$((first + gz))
        if command -v brotli >/dev/null; then
            first_br=$((first_br + $(brotli -q 11 -c "$f" | wc -c)))
        fi
    else
        case $name in
        *.css) continue ;; # a stylesheet index.html does not name is unused
        esac
        part=lazy
        lazy=$((lazy + gz))
    fi
    printf '    %-44s %-10s %10d %10d\n' "$name" "$part" "$raw" "$gz"
done
printf '    %-55s %10d  (budget: %d; goal: <= %d)\n' "first load (wasm + js + css), gzipped" "$first" "$FIRST_LOAD_BUDGET" "$FIRST_LOAD_GOAL"
if [ "$first_br" -gt 0 ]; then
    printf '    %-55s %10d  (what a browser that accepts br receives)\n' "first load, brotli -q 11" "$first_br"
fi
printf '    %-55s %10d\n' "lazy (loaded when first used), gzipped" "$lazy"
printf '    %-55s %10d  (goal: <= %d)\n' "total, gzipped" "$((first + lazy))" "$TOTAL_GOAL"
instructor=0
for f in "$dist"/classroom/*.wasm "$dist"/classroom/*.js "$dist"/classroom/*.css; do
    [ -f "$f" ] || continue
    instructor=$((instructor + $(gzip -9 -n -c "$f" | wc -c)))
done
printf '    %-55s %10d\n' "the instructor's app (dist/classroom/), gzipped" "$instructor"
if $check && [ "$first" -gt "$FIRST_LOAD_BUDGET" ]; then
    echo "wasm-size: the first load is $first B gzipped, over its budget of $FIRST_LOAD_BUDGET B (scripts/wasm-size.sh)." >&2
    exit 1
fi
