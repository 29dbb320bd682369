#!/usr/bin/env bash
# Installs what tests/browser needs: Debian's Chromium (Playwright drives it; Playwright's own
# browser downloads are not used) and a colour emoji font, so the bot's buttons render in
# screenshots. Idempotent: does nothing when Chromium is already there.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi

packages="chromium fonts-noto-color-emoji"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: no apt-get here; install Chromium with your package manager" >&2
    echo "install-browser: (the browser tests are skipped until 'chromium' is on PATH)" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: Chromium is missing; as root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends $packages" >&2
    echo "install-browser: (the browser tests are skipped until then)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # the package list is meant to split
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "install-browser: installed $(chromium --version 2>/dev/null || echo chromium)"
