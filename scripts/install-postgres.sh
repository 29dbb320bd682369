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
exec "$(dirname "$0")/apt-install.sh" install-postgres \
    "the PostgreSQL tests are skipped until initdb is found, or PG_TEST_URL is set; under CI they fail" \
    postgresql
