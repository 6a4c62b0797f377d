#!/usr/bin/env bash
# Installs the Debian packages `make deb` and the systemd end-to-end test need, when run as root.
# Idempotent: does nothing when everything is present.
#   scripts/debdeps.sh build   dpkg-buildpackage with dh-virtualenv (make deb)
#   scripts/debdeps.sh e2e     the above plus systemd-nspawn and mmdebstrap (tests/e2e)
set -euo pipefail
what=${1:-build}
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in debhelper dh-virtualenv python3-venv build-essential fakeroot; do
    have "$pkg" || need+=("$pkg")
done
if [ "$what" = e2e ]; then
    for pkg in systemd-container mmdebstrap; do
        have "$pkg" || need+=("$pkg")
    done
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "autotrader: missing system packages: ${need[*]} (run 'sudo apt-get install ${need[*]}')" >&2
    exit 1
fi
echo "autotrader: installing system packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
