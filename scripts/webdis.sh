#!/usr/bin/env bash
# webdis 0.1.22, the yardstick of `make bench` (redis-tutor-bench), into
# $REDIS_TUTOR_TOOLS/bin/webdis-0.1.22. Idempotent: skipped when it is there
# and passes the smoke test below.
#
# Why not Debian 12's /usr/bin/webdis (0.1.9, which scripts/setup.sh
# installs): its WebSocket answers only a non-standard handshake, closes the
# socket after every reply and swallows connections (docs/benchmarks.md,
# issue 15), so it cannot be the WebSocket yardstick. 0.1.22 (Debian 13,
# trixie) speaks RFC 6455 and keeps the socket open.
#
# Where it comes from: Debian trixie's own build of its webdis 0.1.22+ds-1
# source package, the binary package webdis_0.1.22+ds-1_amd64.deb, plus the
# one library it needs that Debian 12 lacks, libhiredis 1.1.0 (trixie's
# libhiredis1.1.0). Both are sha256-pinned to trixie's signed index. Its
# other libraries (libevent 2.1.7, jansson 4, libb64 0d, OpenSSL 3) are
# Debian 12's, from apt. The source package itself (webdis_0.1.22+ds.orig
# .tar.xz, sha256 4a44b874…647c, and webdis_0.1.22+ds-1.debian.tar.xz) is
# listed in trixie's Sources index but its files answer 404 from the Debian
# mirror this machine reaches (so do 0.1.9's), so it cannot be built here.
# Nothing is unpacked inside the repository: the packages are downloaded and
# unpacked in a temp dir, and only webdis and libhiredis are kept, in
# $REDIS_TUTOR_TOOLS/lib/webdis-0.1.22/, run through a small launcher.
#
# Usage: scripts/webdis.sh [--force]   (--force reinstalls)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${REDIS_TUTOR_TOOLS:-$HOME/.local/share/redis-tutor}
VERSION=0.1.22
BIN=$TOOLS/bin/webdis-$VERSION
LIB=$TOOLS/lib/webdis-$VERSION
POOL=http://deb.debian.org/debian/pool/main

# --- pinned packages (trixie main, amd64) -----------------------------------
WEBDIS_DEB=w/webdis/webdis_0.1.22+ds-1_amd64.deb
WEBDIS_SHA256=581678f00c98ae8ca5c68f0086b153f9dc03150d69d69ffacecfe7c55aac5c5f
HIREDIS_DEB=h/hiredis/libhiredis1.1.0_1.2.0-6+b3_amd64.deb
HIREDIS_SHA256=dae3af5380cb0c12e170271f19d318529331cfa17b5fa47971837b3e2a49bb83
# Its other run-time libraries, from Debian 12's apt.
APT_PACKAGES=(libevent-2.1-7 libjansson4 libb64-0d libssl3)
# The download and the smoke test, only where the machine has none of its own.
command -v curl >/dev/null || APT_PACKAGES+=(curl)
command -v python3 >/dev/null || APT_PACKAGES+=(python3)

ok() { printf '    ok: %s\n' "$1"; }
die() {
    printf '\n\033[31mwebdis.sh failed: step `%s`: %s\033[0m\n' "$current" "$1" >&2
    exit 1
}
current=start
step() {
    current=$1
    printf '==> webdis %s: %s\n' "$VERSION" "$1"
}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# shellcheck source=lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"

# The smoke test: webdis starts on a free loopback port, answers an RFC 6455
# handshake (no Origin, nothing after the headers), and, when an engine is
# there to stand behind it, keeps one socket open across 200 commands.
# Prints what failed and returns non-zero.
smoke() {
    local dir port server log rc=0 redis_pid="" webdis_pid=""
    dir=$(mktemp -d "${TMPDIR:-/tmp}/webdis-smoke.XXXXXX")
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    server=""
    for candidate in "$ROOT/.engine/bin/redis-server" "$(command -v redis-server || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            server=$candidate
            break
        fi
    done
    if [ -n "$server" ]; then
        "$server" --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
            --dir "$dir" --logfile "$dir/redis.log" >/dev/null 2>&1 &
        redis_pid=$!
    fi
    cat >"$dir/webdis.json" <<EOF
{"redis_host": "$dir/redis.sock", "redis_port": 0, "http_host": "127.0.0.1",
 "http_port": $port, "threads": 1, "pool_size": 2, "daemonize": false,
 "database": 0, "websockets": true, "verbosity": 3, "logfile": "$dir/webdis.log"}
EOF
    "$BIN" "$dir/webdis.json" >/dev/null 2>&1 &
    webdis_pid=$!
    python3 - "$port" "$([ -n "$server" ] && echo commands || echo handshake)" <<'PY' || rc=$?
import base64, hashlib, os, socket, struct, sys, time

port, depth = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        break
    except OSError as e:
        if time.time() > deadline:
            sys.exit(f"webdis did not listen on 127.0.0.1:{port} within 10 s ({e})")
        time.sleep(0.05)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(
    f"GET /.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
)
head = b""
try:
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            sys.exit(f"webdis closed the socket during the handshake after {head!r}")
        head += chunk
except socket.timeout:
    sys.exit(f"webdis did not answer a standard WebSocket handshake (got {head!r})")
accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
if not head.startswith(b"HTTP/1.1 101") or accept.encode() not in head:
    sys.exit(f"webdis refused a standard WebSocket handshake: {head!r}")
if depth != "commands":
    print("    smoke: standard handshake answered (no engine here to run commands)")
    sys.exit(0)

def recv_exact(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError(f"webdis closed the socket after {i} command(s)")
        data += chunk
    return data

def send(text):
    payload, mask = text.encode(), os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[j % 4] for j, b in enumerate(payload)))

def reply():
    first, length = recv_exact(2)
    length &= 0x7F
    if length == 126:
        length = struct.unpack(">H", recv_exact(2))[0]
    return first, recv_exact(length)

i = 0
try:
    # The engine may still be starting: webdis answers 503-style errors
    # until its pool is connected.
    while True:
        send('["SET","smoke:key","value"]')
        if reply() == (0x81, b'{"SET":[true,"OK"]}'):
            break
        if time.time() > deadline:
            sys.exit("webdis never ran SET on its redis-server")
        time.sleep(0.05)
    for i in range(200):
        send('["GET","smoke:key"]')
        got = reply()
        if got != (0x81, b'{"GET":"value"}'):
            sys.exit(f"unexpected reply to command {i + 1}: {got!r}")
except (EOFError, socket.timeout) as e:
    sys.exit(str(e))
print("    smoke: standard handshake answered, 200 commands on one socket")
PY
    kill "$webdis_pid" 2>/dev/null || true
    wait "$webdis_pid" 2>/dev/null || true
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null || true
        wait "$redis_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$dir/webdis.log" ]; then
        echo "    webdis's log ends:" >&2
        tail -n 5 "$dir/webdis.log" | sed 's/^/      /' >&2
    fi
    rm -rf "$dir"
    return "$rc"
}

# ---------------------------------------------------------------------------
step "run-time libraries from apt (${APT_PACKAGES[*]})"
apt_install_missing "${APT_PACKAGES[@]}"

# ---------------------------------------------------------------------------
step "already installed?"
if [ "${1:-}" != "--force" ] && [ -x "$BIN" ] && [ -x "$LIB/webdis" ]; then
    if smoke; then
        ok "$BIN is there and works"
        exit 0
    fi
    echo "    $BIN is there but failed its smoke test: reinstalling"
else
    echo "    not yet"
fi

# ---------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/webdis-$VERSION.XXXXXX")
trap 'rm -rf "$work"' EXIT

fetch() { # pool path, sha256 → prints the verified file
    local path=$1 sha=$2 file got
    file=$work/$(basename "$path")
    curl -fsS --retry 2 -o "$file" "$POOL/$path" >&2 \
        || die "could not download $POOL/$path (is deb.debian.org reachable? has trixie moved past this version? then pin the new one from its index)"
    got=$(sha256sum "$file" | cut -d' ' -f1)
    [ "$got" = "$sha" ] \
        || die "sha256 mismatch for $(basename "$path"): expected $sha, got $got; nothing was installed"
    echo "$file"
}

step "download Debian trixie's webdis $VERSION and libhiredis 1.1.0 (sha256-pinned)"
webdis_deb=$(fetch "$WEBDIS_DEB" "$WEBDIS_SHA256")
hiredis_deb=$(fetch "$HIREDIS_DEB" "$HIREDIS_SHA256")
ok "both verified"

step "unpack in $work"
dpkg-deb -x "$webdis_deb" "$work/webdis" || die "dpkg-deb could not unpack $(basename "$webdis_deb")"
dpkg-deb -x "$hiredis_deb" "$work/hiredis" || die "dpkg-deb could not unpack $(basename "$hiredis_deb")"
[ -x "$work/webdis/usr/bin/webdis" ] || die "the package holds no usr/bin/webdis"
ok "unpacked"

step "install into $LIB and $BIN"
rm -rf "$LIB"
mkdir -p "$LIB" "$TOOLS/bin"
install -m 755 "$work/webdis/usr/bin/webdis" "$LIB/webdis"
cp -P "$work"/hiredis/usr/lib/x86_64-linux-gnu/libhiredis*.so* "$LIB/" \
    || die "the libhiredis package holds no libhiredis*.so*"
install -m 644 "$work/webdis/usr/share/doc/webdis/copyright" "$LIB/copyright"
# A launcher, not a symlink: webdis needs libhiredis 1.1.0 from beside it.
# `exec`, so the process started is webdis itself (its pid, its signals).
cat >"$BIN.new" <<EOF
#!/bin/sh
# webdis $VERSION (Debian trixie's build) with its libhiredis 1.1.0; installed
# by redis-tutor's scripts/webdis.sh.
LD_LIBRARY_PATH="$LIB\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$LIB/webdis" "\$@"
EOF
chmod 755 "$BIN.new"
mv "$BIN.new" "$BIN"
unresolved=$(LD_LIBRARY_PATH=$LIB ldd "$LIB/webdis" | grep 'not found' || true)
[ -z "$unresolved" ] || die "libraries not found: $unresolved"
ok "$BIN"

step "smoke test (standard WebSocket handshake, one socket kept across commands)"
smoke || die "the installed webdis failed its smoke test (above)"
ok "webdis $VERSION works"
