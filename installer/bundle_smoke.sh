#!/usr/bin/env bash
# Smoke test of the frozen bundle (`make bundle-test`): runs it with NO Python on PATH:
# --version, a 3 s dispatch of the demo (six output files), and a screenshot of the demo's map.
#   installer/bundle_smoke.sh [dist/ReliefDesk]
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUNDLE="$(cd "${1:-$SRC/dist/ReliefDesk}" && pwd)"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
mkdir "$OUT/empty-path"
run() {  # a clean environment: PATH holds an empty folder, so no python3 can be found
  env -i HOME="$OUT" PATH="$OUT/empty-path" QT_QPA_PLATFORM=offscreen \
    QTWEBENGINE_DISABLE_SANDBOX=1 RELIEFDESK_CACHE_DIR="$OUT/cache" "$@"
}
if run sh -c 'command -v python3 || command -v python' 2>/dev/null; then
  echo "python found on the clean PATH" >&2; exit 1
fi
want="ReliefDesk $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$SRC/gis/version.py")"
got="$(run "$BUNDLE/ReliefDesk" --version)"
echo "--version: $got"
[ "$got" = "$want" ] || { echo "expected '$want'" >&2; exit 1; }
run "$BUNDLE/ReliefDesk" dispatch "$SRC/data/hejiang_demo.gpkg" --out "$OUT/plan" --seconds 3
for f in plan.json orders.pdf orders.xlsx plan.geojson plan.csv plan.html; do
  [ -s "$OUT/plan/$f" ] || { echo "missing $f" >&2; exit 1; }
done
grep -q "\"software\": \"$want\"" "$OUT/plan/plan.json" || { echo "plan.json lacks $want" >&2; exit 1; }
# the desktop app (offscreen): opens the demo and saves a screenshot once the map is drawn; it
# exits non-zero when the map stays blank or incomplete
run "$BUNDLE/ReliefDesk" --screenshot "$OUT/window.png" "$SRC/data/hejiang_demo.gpkg"
[ -s "$OUT/window.png" ] || { echo "no screenshot written" >&2; exit 1; }
echo "bundle smoke test passed: $BUNDLE"
