#!/usr/bin/env bash
# Installs what tests/browser needs: Debian's Chromium (Playwright drives it; Playwright's own
# browser downloads are not used) and a colour emoji font, so the bot's buttons render in
# screenshots. Idempotent: does nothing when Chromium is already there.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
exec "$(dirname "$0")/apt-install.sh" install-browser \
    "the browser tests are skipped until 'chromium' is on PATH" chromium fonts-noto-color-emoji
