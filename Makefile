# redis-tutor. Two commands do everything on a fresh Debian 12 machine:
#   make run    set up, build the browser app and the server, serve on :8080
#   make test   set up, then fmt check, clippy -D warnings and every test
SHELL := /bin/bash
TOOLS ?= $(HOME)/.local/share/redis-tutor
export PATH := $(TOOLS)/bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup frontend backend lint fuzz bench bench-browser

setup:
	@bash scripts/setup.sh

# Two apps from one crate: the learner's into dist/, then the instructor's
# (/instructor, /projector) into dist/classroom/ (after, as Trunk empties
# its dist/ first), so a lesson page never downloads the instructor's.
frontend: setup
	trunk build --release
	trunk build --release=true --dist dist/classroom --public-url /classroom/ frontend/instructor.html
	@bash scripts/wasm-size.sh

backend: setup
	cargo build --release -p backend

run: frontend backend
	./target/release/redis-tutor

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# The browser tests drive the release build in dist/, so build it first.
# A first load over its size budget fails first (scripts/wasm-size.sh).
# The last line totals every test binary ("N passed, N failed").
test: lint frontend
	@bash scripts/wasm-size.sh --check > /dev/null
	@mkdir -p target
	set -o pipefail; cargo test --workspace --exclude frontend 2>&1 | tee target/test-output.log
	set -o pipefail; cargo test -p frontend --lib 2>&1 | tee -a target/test-output.log
	@awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' target/test-output.log

# The console against webdis 0.1.22 (scripts/webdis.sh installs it) on the
# same engine binary: WebSocket with 1 and 16 clients and HTTP (wrk), five
# rounds, each run's p50/p99 and the medians of the ratios; then the
# gateway's own cost and the one-off figures (docs/benchmarks.md).
bench: setup
	@bash scripts/webdis.sh
	cargo run --release -p backend --bin redis-tutor-bench -- --runs 5 --seconds 3 --clients 16 --only all

# Console ready in headless Chromium: 10 first visits of a lesson page and
# their repeat visits, timed by the page (docs/benchmarks.md). Prints the
# tables.
bench-browser: frontend
	cargo test -p backend --test it browser_bench -- --nocapture

# The property tests with many more cases than `make test` runs (the
# cases per property come from FUZZ_CASES; a failure prints the shrunk
# input).
FUZZ_CASES ?= 20000
fuzz: setup
	PROPTEST_CASES=$(FUZZ_CASES) cargo test --release -p protocol --test properties
	PROPTEST_CASES=$(FUZZ_CASES) cargo test --release -p backend --lib properties
