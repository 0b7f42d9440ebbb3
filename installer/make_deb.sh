#!/usr/bin/env bash
# Debian package of the frozen bundle (`make deb`): /opt/reliefdesk, menu entry, icon.
#   installer/make_deb.sh [dist/ReliefDesk] [OUT_DIR=dist]
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$(cd "${1:-$SRC/dist/ReliefDesk}" && pwd)"
OUT_DIR="${2:-$SRC/dist}"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SRC/gis/version.py")"
ARCH="$(dpkg --print-architecture)"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/opt/reliefdesk" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/doc/reliefdesk" "$STAGE/DEBIAN"
cp -a "$BUNDLE"/. "$STAGE/opt/reliefdesk/"
cat > "$STAGE/opt/reliefdesk/reliefdesk" <<'LAUNCH'
#!/bin/sh
[ "$(id -u)" = 0 ] && export QTWEBENGINE_DISABLE_SANDBOX=1
exec /opt/reliefdesk/ReliefDesk "$@"
LAUNCH
chmod 755 "$STAGE/opt/reliefdesk/reliefdesk"
sed -e "s|@PREFIX@|/opt/reliefdesk|g" -e "s|^Icon=.*|Icon=reliefdesk|" -e "/^# Template/d" \
  "$SRC/installer/reliefdesk.desktop.in" > "$STAGE/usr/share/applications/reliefdesk.desktop"
install -m 644 "$SRC/resources/icons/reliefdesk.png" "$STAGE/usr/share/icons/hicolor/256x256/apps/"
install -m 644 "$SRC/LICENSE" "$STAGE/usr/share/doc/reliefdesk/copyright"
SIZE_KB="$(du -sk "$STAGE" | cut -f1)"
# the newest glibc symbol version any bundled library asks for (README: "Which Linux systems"),
# so apt refuses the package on an older system instead of the app failing at start
LIBC=""
if command -v objdump >/dev/null; then
  GLIBC_MIN="$(find "$BUNDLE" -type f \( -name '*.so*' -o -name ReliefDesk \) -print0 \
    | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -1)"
  [ -z "$GLIBC_MIN" ] || LIBC="libc6 (>= $GLIBC_MIN), "
else
  echo "objdump not found (Debian package binutils): no libc6 version in Depends" >&2
fi
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: reliefdesk
Version: $VERSION
Architecture: $ARCH
Maintainer: ReliefDesk maintainers <reliefdesk@localhost>
Installed-Size: $SIZE_KB
Depends: ${LIBC}libasound2, libdbus-1-3, libegl1, libfontconfig1, libfreetype6, libgbm1, libgl1, libglib2.0-0, libnspr4, libnss3, libx11-6, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-render-util0, libxcb-shape0, libxcomposite1, libxdamage1, libxext6, libxfixes3, libxkbcommon0, libxkbcommon-x11-0, libxkbfile1, libxrandr2, libxtst6, fonts-wqy-microhei
Section: misc
Priority: optional
Homepage: https://localhost/reliefdesk
Description: ReliefDesk 应急资源调度台 — county emergency resource dispatch desk
 Desktop GIS for county emergency-management command centres: stocks, shelters,
 teams and vehicles on an offline map; dispatch plans with printable orders.
 Licence: GPL-3.0-or-later.
CONTROL
mkdir -p "$OUT_DIR"
DEB="$OUT_DIR/reliefdesk_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$DEB"  # gzip: fast, any dpkg
echo "$DEB"
