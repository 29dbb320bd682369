#!/usr/bin/env bash
# Installs what the Redis tests need: Debian's redis-server (the tests start their own throwaway
# server on 127.0.0.1; the system service is not used). Idempotent: does nothing when
# redis-server is already on PATH.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
"$(dirname "$0")/apt-install.sh" install-redis \
    "the Redis tests are skipped until redis-server is on PATH; under CI they fail" \
    redis-server
# The package starts a system service on 6379; the tests start their own, so stop it again
# where a service manager runs it (nothing to stop in a container without one).
service redis-server stop >/dev/null 2>&1 || true
