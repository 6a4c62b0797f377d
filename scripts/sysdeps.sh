#!/usr/bin/env bash
# Installs the Debian packages autotrader's build, tests and demo need, when run as root.
# Idempotent: does nothing when everything is present.
set -euo pipefail
need=()
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v systemd-analyze >/dev/null || need+=(systemd)
# The status page is tested in Debian's headless Chromium, driven by Playwright.
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "autotrader: missing system packages: ${need[*]} (run 'sudo apt-get install ${need[*]}')" >&2
    exit 1
fi
echo "autotrader: installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
