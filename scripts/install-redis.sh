#!/usr/bin/env bash
# Installs what the Redis tests need: Debian's redis-server (the tests start their own throwaway
# server on 127.0.0.1; the system service is not used). Idempotent: does nothing when
# redis-server is already on PATH.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

packages="redis-server"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-redis: no apt-get here; install redis-server with your package manager" >&2
    echo "install-redis: (the Redis tests are skipped until 'redis-server' is on PATH)" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-redis: redis-server is missing; as root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends $packages" >&2
    echo "install-redis: (the Redis tests are skipped until then, and fail under CI)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # the package list is meant to split
apt-get install -y -qq --no-install-recommends $packages >/dev/null
# The package starts a system service on 6379; the tests start their own, so stop it again
# where a service manager runs it (nothing to stop in a container without one).
service redis-server stop >/dev/null 2>&1 || true
echo "install-redis: installed $(redis-server --version 2>/dev/null || echo redis-server)"
