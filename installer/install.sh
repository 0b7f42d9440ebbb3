#!/usr/bin/env bash
# Offline-capable install of ReliefDesk on a Debian 12 desktop (as root).
#
#   installer/install.sh [PREFIX]        default PREFIX=/opt/reliefdesk
#
# Copies the application, builds its venv (from the package registries, or from a wheelhouse
# folder next to this script when the command centre is offline: see `make wheelhouse` below),
# installs the Debian runtime packages Qt WebEngine needs, and adds a desktop menu entry.
# To prepare an offline bundle on a connected machine:
#   pip download -r requirements.txt -d installer/wheelhouse
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="${1:-/opt/reliefdesk}"
[ "$(id -u)" = 0 ] || { echo "run as root (installs Debian packages and writes $PREFIX)" >&2; exit 2; }
make -C "$SRC" debs
mkdir -p "$PREFIX"
cp -a "$SRC"/app.py "$SRC"/gis "$SRC"/dispatch "$SRC"/gui "$SRC"/data "$SRC"/resources \
      "$SRC"/requirements.txt "$PREFIX"/
python3 -m venv "$PREFIX/.venv"
if [ -d "$SRC/installer/wheelhouse" ]; then
  "$PREFIX/.venv/bin/pip" install --no-index --find-links "$SRC/installer/wheelhouse" -r "$PREFIX/requirements.txt"
else
  "$PREFIX/.venv/bin/pip" install -r "$PREFIX/requirements.txt"
fi
cat > "$PREFIX/reliefdesk" <<LAUNCH
#!/usr/bin/env bash
[ "\$(id -u)" = 0 ] && export QTWEBENGINE_DISABLE_SANDBOX=1
exec "$PREFIX/.venv/bin/python" "$PREFIX/app.py" "\$@"
LAUNCH
chmod +x "$PREFIX/reliefdesk"
install -m 644 "$SRC/installer/reliefdesk.desktop" /usr/share/applications/reliefdesk.desktop
echo "installed in $PREFIX; start with $PREFIX/reliefdesk or from the desktop menu"
