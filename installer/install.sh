#!/usr/bin/env bash
# Install (or uninstall) ReliefDesk on a Debian 12 desktop, online or offline.
#
#   installer/install.sh [options] [PREFIX]            default PREFIX=/opt/reliefdesk
#   installer/install.sh --uninstall [PREFIX]          or: PREFIX/uninstall.sh
#
# Copies the application to PREFIX, builds its venv there (from the package registries, or from
# installer/wheelhouse/ when the command centre is offline: prepare it on a connected Debian 12
# machine with `make wheelhouse`), installs the Debian runtime packages Qt WebEngine needs
# (`make debs`: as root or with sudo), writes the launcher PREFIX/reliefdesk, PREFIX/uninstall.sh
# and a desktop menu entry whose Exec and Icon follow PREFIX.
#
# Options:
#   --no-debs      do not install Debian packages (already there, or no root)
#   --python PY    run the app with an existing Python environment PY instead of building
#                  PREFIX/.venv (it must already have requirements.lock installed)
#   --user         menu entry in ~/.local/share/applications (default when not root, no DESTDIR)
#   --uninstall    remove PREFIX and the menu entry written by an earlier install
# Environment: DESTDIR stages the files under $DESTDIR$PREFIX (packaging); the launcher and the
# menu entry still name PREFIX.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX=/opt/reliefdesk
DEBS=1
PYTHON=""
UNINSTALL=0
USER_MENU=0
[ "$(id -u)" = 0 ] || [ -n "${DESTDIR:-}" ] || USER_MENU=1  # packaging: system menu
while [ $# -gt 0 ]; do
  case "$1" in
    --no-debs) DEBS=0 ;;
    --python) PYTHON="${2:?--python needs a path}"; shift ;;
    --user) USER_MENU=1 ;;
    --uninstall) UNINSTALL=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) PREFIX="$1" ;;
  esac
  shift
done
case "$PREFIX" in
  /*) ;;
  *) PREFIX="$(pwd)/$PREFIX" ;;
esac
PREFIX="${PREFIX%/}"
DEST="${DESTDIR:-}$PREFIX"
if [ "$USER_MENU" = 1 ]; then
  MENU_DIR="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
else
  MENU_DIR="${DESTDIR:-}/usr/share/applications"
fi
MENU_FILE="$MENU_DIR/reliefdesk.desktop"

if [ "$UNINSTALL" = 1 ]; then
  if [ -x "$DEST/uninstall.sh" ]; then exec "$DEST/uninstall.sh"; fi
  # no uninstall.sh: only a folder that is recognisably a ReliefDesk install is removed
  if [ -f "$DEST/app.py" ] && [ -f "$DEST/reliefdesk" ]; then rm -rf "$DEST"; fi
  rm -f "$MENU_FILE"
  echo "removed $DEST and $MENU_FILE"
  exit 0
fi

[ "$DEBS" = 0 ] || make -C "$SRC" debs
mkdir -p "$DEST"
cp -a "$SRC"/app.py "$SRC"/gis "$SRC"/dispatch "$SRC"/gui "$SRC"/data "$SRC"/resources \
      "$SRC"/requirements.lock "$SRC"/LICENSE "$SRC"/README.md "$SRC"/CHANGELOG.md "$DEST"/
find "$DEST" -name __pycache__ -prune -exec rm -rf {} +
if [ -n "$PYTHON" ]; then
  RUN_PY="$PYTHON"
else
  RUN_PY="$PREFIX/.venv/bin/python"
  python3 -m venv "$DEST/.venv"
  if [ -d "$SRC/installer/wheelhouse" ]; then
    "$DEST/.venv/bin/python" -m pip install --no-index --find-links "$SRC/installer/wheelhouse" \
      --require-hashes -r "$DEST/requirements.lock"
  else
    "$DEST/.venv/bin/python" -m pip install --require-hashes -r "$DEST/requirements.lock"
  fi
fi
cat > "$DEST/reliefdesk" <<LAUNCH
#!/usr/bin/env bash
[ "\$(id -u)" = 0 ] && export QTWEBENGINE_DISABLE_SANDBOX=1
exec "$RUN_PY" "$PREFIX/app.py" "\$@"
LAUNCH
chmod +x "$DEST/reliefdesk"
mkdir -p "$MENU_DIR"
sed -e "s|@PREFIX@|$PREFIX|g" -e "/^# Template/d" "$SRC/installer/reliefdesk.desktop.in" > "$MENU_FILE"
chmod 644 "$MENU_FILE"
MENU_TARGET="${MENU_FILE#"${DESTDIR:-}"}"
cat > "$DEST/uninstall.sh" <<UNINSTALL
#!/usr/bin/env bash
# Remove ReliefDesk installed in $PREFIX (written by installer/install.sh).
set -eu
rm -f "$MENU_TARGET"
rm -rf "$PREFIX"
echo "ReliefDesk removed from $PREFIX"
UNINSTALL
chmod +x "$DEST/uninstall.sh"
echo "installed in $DEST; start with $PREFIX/reliefdesk or from the desktop menu ($MENU_FILE);"
echo "remove with $PREFIX/uninstall.sh"
