#!/usr/bin/env bash
# Installs what the PostgreSQL tests need: Debian's PostgreSQL server binaries (initdb, pg_ctl).
# The tests start a throwaway server of their own on 127.0.0.1 (tests/postgres_server.py); the
# cluster Debian's package may create and start is not used. Idempotent: does nothing when the
# binaries are already there, or when PG_TEST_URL names a server to use instead.
set -euo pipefail

if [ -n "${PG_TEST_URL:-}" ] || command -v initdb >/dev/null 2>&1 \
    || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
fi

packages="postgresql"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no apt-get here; install the PostgreSQL server with your package manager" >&2
    echo "install-postgres: (the PostgreSQL tests are skipped until initdb is found, or set PG_TEST_URL)" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-postgres: PostgreSQL is missing; as root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends $packages" >&2
    echo "install-postgres: (the PostgreSQL tests are skipped until then, or set PG_TEST_URL)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # the package list is meant to split
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "install-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
