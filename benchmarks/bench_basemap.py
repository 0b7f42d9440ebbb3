"""What the workspace base map costs when the operator moves the map (issue 13 §2).

Opens the demo county in the real main window (offscreen Qt), waits until the map has drawn and
the road network is loaded, then, for each base map (``none`` = the baseline, measured in the
same run, then ``workspace``), moves the view through the same sequence of views (county, seat
and township zooms) and times each view from ``setView`` until two animation frames later (the
canvas layers have repainted). Printed: median and max per view, and the ratio workspace/none.
The machine is shared: run it twice and compare the ratios, not the absolute times.

Usage: ``python benchmarks/bench_basemap.py [--rounds 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VIEWS = [
    (105.8336, 28.8116, 14),
    (105.83, 28.81, 11),
    (106.05, 28.70, 13),
    (105.70, 28.90, 12),
    (105.9, 28.75, 10),
    (105.84, 28.80, 15),
    (106.1, 28.63, 13),
    (105.62, 28.95, 12),
]

PROBE = """
(function (views) {
  window.__bench = null;
  var out = [], i = 0;
  function next() {
    if (i >= views.length) { window.__bench = out; return; }
    var v = views[i++], t0 = performance.now();
    RD.map.setView([v[1], v[0]], v[2], {animate: false});
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      out.push(performance.now() - t0); setTimeout(next, 30); }); });
  }
  next();
  return true;
})(%s)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    tmp = Path(tempfile.mkdtemp(prefix="bench_basemap_"))
    os.environ["RELIEFDESK_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ["RELIEFDESK_RECOVERY_DIR"] = str(tmp / "recovery")
    import PyQt6.QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from PyQt6.QtWidgets import QApplication

    from gis import basemap as bm
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    ws = tmp / "demo.gpkg"
    shutil.copy(ROOT / "data" / "hejiang_demo.gpkg", ws)
    w = MainWindow(interactive=False)
    w.resize(1400, 900)
    w.show()
    w.open_workspace(ws)

    def wait(cond, limit=120.0):
        t = time.monotonic()
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.monotonic() - t > limit:
                raise TimeoutError("page did not answer")

    def js(script):
        box = {}
        w.map.evaluate(script, lambda r: box.setdefault("r", r))
        wait(lambda: "r" in box)
        return box["r"]

    wait(lambda: w.map.ready and w.session.network is not None and not w.runner.busy)
    results: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for kind in ("none", "workspace"):
            w.basemap.set_choice(bm.BasemapChoice(kind))
            wait(lambda k=kind: js("RD.baseKind") == k)
            js(PROBE % json.dumps(VIEWS))
            wait(lambda: js("window.__bench !== null"))
            results.setdefault(kind, []).extend(js("window.__bench"))
    load = os.getloadavg()[0]
    print(f"views per base map: {len(results['none'])} (load average {load:.1f}, 2 shared cores)")
    for kind, ms in results.items():
        print(f"{kind:10s} median {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms")
    ratio = statistics.median(results["workspace"]) / statistics.median(results["none"])
    print(f"ratio workspace/none (median): {ratio:.2f}")
    w.session.undo_stack.setClean()
    w.close()
    w.map.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
