#!/usr/bin/env bash
# The node's preStop hook: waits until this server has no live learner
# session left, or REDIS_TUTOR_DRAIN_SECS (default 900: the server's idle
# reap time) have passed, whichever comes first. Then Kubernetes sends
# SIGTERM and the server ends the rest (docs/deploy.md, "Draining a node").
#
# By the time this runs the pod is terminating, so it is out of the
# Service's endpoints: no new learner lands here, and the learners already
# here keep their open consoles until they leave. Sessions end by
# themselves: 60 s after the last tab closes, after 15 min idle, after 2 h.
#
# It reads the `redis_tutor_sessions` gauge from the server's own /metrics
# with bash alone (the runtime image has no curl). If the server does not
# answer, there is nothing to wait for.
set -uo pipefail

drain_secs=${REDIS_TUTOR_DRAIN_SECS:-900}
addr=${REDIS_TUTOR_ADDR:-0.0.0.0:8080}
port=${addr##*:}
deadline=$((SECONDS + drain_secs))

# Prints the live session count, or fails if the server does not answer.
sessions() {
    local line count=
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    while IFS= read -r line <&3; do
        line=${line%$'\r'}
        if [[ $line == "redis_tutor_sessions "* ]]; then
            count=${line#redis_tutor_sessions }
        fi
    done
    exec 3<&-
    [[ $count =~ ^[0-9]+$ ]] || return 1
    echo "$count"
}

while ((SECONDS < deadline)); do
    count=$(sessions) || {
        echo "redis-tutor-drain: the server does not answer on port $port; nothing to wait for" >&2
        exit 0
    }
    if ((count == 0)); then
        echo "redis-tutor-drain: no live session left" >&2
        exit 0
    fi
    left=$((deadline - SECONDS))
    echo "redis-tutor-drain: $count live sessions; waiting (at most $left s more)" >&2
    sleep $((left < 5 ? (left > 0 ? left : 1) : 5))
done
echo "redis-tutor-drain: drain time (${drain_secs} s) is up; SIGTERM ends the remaining sessions" >&2
exit 0
