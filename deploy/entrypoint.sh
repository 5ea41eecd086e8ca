#!/usr/bin/env bash
# The image's entrypoint: prepares the container's cgroup v2 tree so the
# server can give each sandbox its own memory cgroup, then becomes the
# server (same arguments, same PID).
#
# cgroup v2's "no internal processes" rule: a cgroup that holds processes
# cannot hand a controller to child cgroups. Inside a container, the
# container's own cgroup is the root of /sys/fs/cgroup and holds this
# process, so the server's `+memory` for its sandboxes would fail. Moving
# the container's processes into a leaf (`init/`) first lets the server
# create its parent cgroup beside it, still inside the container's cgroup
# (so the pod's own memory limit still covers every sandbox).
#
# When /sys/fs/cgroup is read-only (most runtimes, unless writable cgroups
# are enabled: docs/deploy.md), nothing is done here: the server says so in
# one warning and bounds sandboxes by RLIMIT_AS and maxmemory only.
set -euo pipefail

cgroup=/sys/fs/cgroup
if [ -f "$cgroup/cgroup.controllers" ] && [ -w "$cgroup/cgroup.procs" ] \
    && grep -qw memory "$cgroup/cgroup.controllers"; then
    mkdir -p "$cgroup/init"
    while read -r pid; do
        # A process may have exited since the list was read.
        echo "$pid" >"$cgroup/init/cgroup.procs" 2>/dev/null || true
    done <"$cgroup/cgroup.procs"
    if echo +memory >"$cgroup/cgroup.subtree_control" 2>/dev/null; then
        echo "redis-tutor-entrypoint: cgroup v2 is writable; each sandbox gets its own memory cgroup" >&2
    else
        echo "redis-tutor-entrypoint: cannot enable the memory controller under $cgroup; the server will say what it falls back to" >&2
    fi
else
    echo "redis-tutor-entrypoint: $cgroup is not a writable cgroup v2 tree; sandboxes are bounded by RLIMIT_AS and maxmemory, the pod by its memory limit (docs/deploy.md)" >&2
fi

exec /usr/local/bin/redis-tutor "$@"
