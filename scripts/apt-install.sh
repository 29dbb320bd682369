#!/usr/bin/env bash
# apt-install.sh NAME SKIPPED PACKAGE... : installs Debian packages a test layer needs, as root
# with apt-get; elsewhere says how, and what stays skipped meanwhile (SKIPPED), and exits 0.
# Used by install-browser.sh and install-postgres.sh once they found their tools missing.
set -euo pipefail
name=$1 skipped=$2
shift 2
packages="$*"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: no apt-get here; install $packages with your package manager" >&2
    echo "$name: ($skipped)" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "$name: missing; as root, run:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends $packages" >&2
    echo "$name: ($skipped)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # the package list is meant to split
apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "$name: installed $packages"
