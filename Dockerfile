# syntax=docker/dockerfile:1.7
#
# redis-tutor in one image: the server binary, the browser app (dist/), the
# course (lessons/) and the Redis 8.2 engine with its modules (.engine/).
#
#   docker build -t redis-tutor .
#   docker run --rm -p 8080:8080 redis-tutor
#
# The build stage does exactly what `make run` does on a fresh Debian 12
# machine: the project's own scripts/setup.sh (Debian packages, the wasm
# target, trunk, wasm-bindgen-cli, wasm-opt, the sha256-pinned engine wheels,
# the engine smoke test), then `make frontend backend`. No version is pinned
# in this file, so the image cannot drift from setup.sh; the deploy_files
# test (backend/tests/it/deploy_files.rs) checks that it stays that way.
# docs/deploy.md explains the rest.

# The Rust the project is developed and tested with.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# trunk and wasm-bindgen-cli take ~20 min to build: cargo installs them into
# a build cache that outlives this layer, as setup.sh's user-level tool dirs
# outlive a CI clone.
ENV DEBIAN_FRONTEND=noninteractive \
    CARGO_TERM_COLOR=never \
    CARGO_INSTALL_ROOT=/opt/cargo-tools \
    PATH=/opt/cargo-tools/bin:$PATH
# Keep downloaded .deb files in the apt cache mount between builds.
RUN rm -f /etc/apt/apt.conf.d/docker-clean
COPY . .
# 1. The project's setup, unchanged: what it installs is what `make run` uses.
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/opt/cargo-tools \
    --mount=type=cache,target=/root/.local/share/redis-tutor \
    --mount=type=cache,target=/root/.cache/redis-tutor \
    bash scripts/setup.sh
# 2. The release browser app and the release server, as `make run` builds
#    them (make re-runs setup first; every step is already done and skips).
#    target/ is a build cache, so the binary is copied out of it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/opt/cargo-tools \
    --mount=type=cache,target=/root/.local/share/redis-tutor \
    --mount=type=cache,target=/src/target \
    make frontend backend \
    && install -D -m 0755 target/release/redis-tutor /out/redis-tutor

FROM debian:bookworm-slim AS runtime
# ca-certificates: for a control store reached over TLS once the server is
# built with TLS (docs/deploy.md). The engine needs only glibc, libstdc++
# and libgcc_s, which the slim image has.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/redis-tutor
COPY --from=build /out/redis-tutor /usr/local/bin/redis-tutor
COPY --from=build /src/dist /opt/redis-tutor/dist
COPY --from=build /src/lessons /opt/redis-tutor/lessons
COPY --from=build /src/.engine /opt/redis-tutor/engine
COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/redis-tutor-entrypoint
COPY --chmod=0755 deploy/drain.sh /usr/local/bin/redis-tutor-drain
# Every path absolute, so the server finds its parts from any working dir.
# It listens on all interfaces (its default, 127.0.0.1, is unreachable from
# outside a container). With no REDIS_TUTOR_CONTROL_URL it runs its own
# embedded control store in REDIS_TUTOR_DATA_DIR: mount a volume there.
ENV REDIS_TUTOR_ADDR=0.0.0.0:8080 \
    REDIS_TUTOR_ENGINE_DIR=/opt/redis-tutor/engine \
    REDIS_TUTOR_LESSONS_DIR=/opt/redis-tutor/lessons \
    REDIS_TUTOR_DIST_DIR=/opt/redis-tutor/dist \
    REDIS_TUTOR_RUN_DIR=/run/redis-tutor \
    REDIS_TUTOR_DATA_DIR=/var/lib/redis-tutor
RUN mkdir -p /run/redis-tutor /var/lib/redis-tutor \
    && chmod 0700 /run/redis-tutor /var/lib/redis-tutor \
    && /usr/local/bin/redis-tutor --version \
    && /opt/redis-tutor/engine/bin/redis-server --version
EXPOSE 8080
# Root, with every capability dropped by the pod spec: the memory cgroups of
# the sandboxes need write access to /sys/fs/cgroup (docs/deploy.md, "The
# memory bound in a container"). The server is PID 1: it handles SIGTERM
# and reaps its own sandboxes.
ENTRYPOINT ["/usr/local/bin/redis-tutor-entrypoint"]
