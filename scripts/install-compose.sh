#!/usr/bin/env bash
# Installs what the deployment test needs to check docker-compose.yml as Docker Compose reads it:
# Debian's docker-compose (`docker-compose config` validates the file against the Compose schema
# without a Docker daemon). Idempotent: does nothing when `docker compose` or docker-compose is
# already there.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1 \
    || { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; }; then
    exit 0
fi
exec "$(dirname "$0")/apt-install.sh" install-compose \
    "the compose file's check by Docker Compose is skipped until then; under CI it fails" \
    docker-compose
