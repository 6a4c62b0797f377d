#!/usr/bin/env bash
# Builds the autotrader .deb (dh-virtualenv) from this source tree: `make deb`.
#
#   scripts/build-deb.sh [OUT_DIR]        default OUT_DIR: dist/
#   DEB_CACHE=/var/cache/x scripts/build-deb.sh
#       reuse a .deb built from the same package inputs (keyed by their SHA-256)
#   AUTOTRADER_DEB_COMPRESSION=none|gzip|xz    dpkg-deb compression (default gzip)
#
# Only what goes into the package is staged (pyproject.toml, README.md, src/,
# etc/autotrader.yaml, packaging/debian, packaging/systemd): from `git ls-files` (tracked and
# untracked-but-not-ignored files, so a working tree with new files builds what it holds) or,
# outside git, from the file system. The staged copy gets packaging/debian as debian/ and is
# built with dpkg-buildpackage. The last line printed on stdout is the path of the .deb.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-$REPO/dist}" && cd "${1:-$REPO/dist}" && pwd)
INPUTS=(pyproject.toml README.md src etc/autotrader.yaml packaging/debian packaging/systemd)
log() { echo "build-deb: $*" >&2; }

bash "$REPO/scripts/debdeps.sh" build

VERSION=$(dpkg-parsechangelog -l "$REPO/packaging/debian/changelog" -S Version)
ARCH=$(dpkg --print-architecture)
DEB_NAME="autotrader_${VERSION}_${ARCH}.deb"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/autotrader-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/autotrader-$VERSION"
mkdir -p "$STAGE"

# 1. stage the package inputs
cd "$REPO"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard -- "${INPUTS[@]}" \
        | while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -C "$STAGE" -xf -
else
    tar --exclude=__pycache__ --exclude='*.pyc' -cf - "${INPUTS[@]}" | tar -C "$STAGE" -xf -
fi
find "$STAGE" \( -name __pycache__ -o -name '*.pyc' \) -prune -exec rm -rf {} +

# 2. a build with the same inputs already done?
KEY=$( (cd "$STAGE" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        echo "compression ${AUTOTRADER_DEB_COMPRESSION:-gzip}") | sha256sum | cut -c1-16)
if [ -n "${DEB_CACHE:-}" ] && [ -f "$DEB_CACHE/$KEY/$DEB_NAME" ]; then
    log "cached: $DEB_CACHE/$KEY/$DEB_NAME (inputs $KEY)"
    cp "$DEB_CACHE/$KEY/$DEB_NAME" "$OUT/$DEB_NAME"
    echo "$OUT/$DEB_NAME"
    exit 0
fi

# 3. build: Debian's python3, not a pyenv shim or the developer's venv
mv "$STAGE/packaging/debian" "$STAGE/debian"
log "building $DEB_NAME (inputs $KEY; log in $OUT/build-deb.log)"
start=$(date +%s)
if ! (cd "$STAGE" && env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u DH_VERBOSE \
        -u AUTOTRADER_CONFIG PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        dpkg-buildpackage -us -uc -b) >"$OUT/build-deb.log" 2>&1; then
    tail -40 "$OUT/build-deb.log" >&2
    log "FAILED (full log: $OUT/build-deb.log)"
    exit 1
fi
log "built in $(( $(date +%s) - start ))s"
cp "$WORK/$DEB_NAME" "$OUT/$DEB_NAME"
if [ -n "${DEB_CACHE:-}" ]; then
    mkdir -p "$DEB_CACHE/$KEY" && cp "$WORK/$DEB_NAME" "$DEB_CACHE/$KEY/$DEB_NAME.tmp"
    mv "$DEB_CACHE/$KEY/$DEB_NAME.tmp" "$DEB_CACHE/$KEY/$DEB_NAME"
    # Keep the two newest builds: each is ~200 MB and a new source tree makes a new one.
    (cd "$DEB_CACHE" && ls -1t | tail -n +3 | xargs -r rm -rf --)
fi
echo "$OUT/$DEB_NAME"
