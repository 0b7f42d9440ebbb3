"""Opening a 10,000-facility workspace: event-loop gaps and time to a drawn map (issue 11 item 9).

Each measured open is a fresh process (offscreen Qt, the real main window): a 10 ms
``PreciseTimer`` records every tick from just before ``open_workspace`` until the map reports
that it has drawn every layer (:class:`gui.app_main.ScreenshotProbe`, the ``--screenshot``
logic); then the window is grabbed. Printed per workspace: time to the drawn map, the longest
gap between two ticks (10 ms when the loop is free), p99, the number of gaps above 100 ms, the
longest run of GUI-thread CPU time between two ticks (``time.thread_time``: the thread's own
work, not time spent waiting for one of the shared cores — the figure that load does not
inflate), the markers and cluster icons the page shows, whether the map completed, the
share of non-background pixels of the map in the screenshot (a blank map is ~0 %), and the
GUI-thread CPU time of one edit once the map is drawn (a shelter moved by 0.01°: the tables and
that one marker are updated; a full layer rebuild took 1.4 s at 10k).

Baseline, same run: the demo county (71 facilities), opened the same way, before and after the
10k workspace (the machine is shared; the two demo runs show the noise).

Goals (were timed assertions in ``tests/test_gui_scale.py``; the test keeps what is drawn and
counted): GUI-thread CPU between two ticks ≤ 100 ms while the 10k workspace opens (before the fix
it stalled the GUI thread for 4.9–38 s), the wall-clock gap within 1,000 ms (it also holds the
machine's scheduling noise: on the shared 2-core runner at load 5–6 the *demo* county showed
270–670 ms), and one move ≤ 300 ms of GUI-thread CPU — what a return of per-facility work on the
GUI thread (tables, messages, markers) would break at once.

The 10k workspace is written once by :func:`benchmarks.scale_workspace.make_scale_workspace`
(the demo county plus 5,000 shelters, 2,500 stockpiles and 2,500 hazards on road nodes, fixed
seed).

Usage: ``python benchmarks/bench_gui_scale.py [--n 10000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LIMIT_MS = 100.0
WALL_LIMIT_MS = 1000.0
MOVE_LIMIT_MS = 300.0

#: run in a child process: open ``argv[1]``, probe the loop, grab ``argv[2]``, print JSON
PROBE = r"""
import json, os, sys, time
import PyQt6.QtWebEngineWidgets
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication
from pathlib import Path
app = QApplication(["bench_gui_scale"])
from gui.app_main import ScreenshotProbe
from gui.main_window import MainWindow
w = MainWindow(interactive=False); w.resize(1600, 1000); w.show()
for _ in range(20):
    app.processEvents(); time.sleep(0.01)
ticks = []
t = QTimer(); t.setTimerType(Qt.TimerType.PreciseTimer); t.setInterval(10)
t.timeout.connect(lambda: ticks.append((time.perf_counter(), time.thread_time())))
ticks.append((time.perf_counter(), time.thread_time())); t.start()
t0 = time.perf_counter()
w.open_workspace(Path(sys.argv[1]))
probe = ScreenshotProbe(w, Path(sys.argv[2]), timeout_s=float(sys.argv[3]))
probe.start()
app.exec()
t.stop(); ticks.append((time.perf_counter(), time.thread_time()))
drawn_s = time.perf_counter() - t0
moved = w.session.scenario.shelters[-2]
c0 = time.thread_time()
w.session.move(moved.id, round(moved.location.lon + 0.01, 6), moved.location.lat, "move")
move_ms = 1000.0 * (time.thread_time() - c0)
gaps = sorted(1000.0 * (b[0] - a[0]) for a, b in zip(ticks, ticks[1:]))
cpu = max(1000.0 * (b[1] - a[1]) for a, b in zip(ticks, ticks[1:]))
from benchmarks.bench_gui_scale import map_ink
print(json.dumps({
    "exit": probe.exit_code, "drawn_s": round(drawn_s, 2),
    "max_ms": round(gaps[-1], 1), "cpu_ms": round(cpu, 1), "p99_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 1),
    "over_100": sum(1 for g in gaps if g > 100), "ticks": len(gaps),
    "markers": probe.stats.get("markers"), "complete": probe.stats.get("drawn"),
    "ink": round(map_ink(w.map.grab().toImage()), 4), "move_ms": round(move_ms, 1),
    "facilities": sum(len(getattr(w.session.scenario, k)) for k in
                      ("shelters", "stockpiles", "teams", "incidents", "hazards")),
}))
w.session.undo_stack.setClean(); w.close(); w.runner.wait(5000); w.map.dispose()
"""


def map_ink(image: object) -> float:
    """Share of pixels of a map image that differ from its most common colour (the map's
    background): ~0 for a blank map, a few percent for roads and markers."""
    import numpy as np
    from PyQt6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_RGB32)  # type: ignore[attr-defined]
    w, h = img.width(), img.height()
    if not w or not h:
        return 0.0
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    arr = np.frombuffer(ptr, dtype=np.uint32).reshape(h, img.bytesPerLine() // 4)[:, :w]
    values, counts = np.unique(arr, return_counts=True)
    background = values[int(np.argmax(counts))]
    return float(np.count_nonzero(arr != background)) / arr.size


def open_and_probe(
    workspace: Path, png: Path, env: dict[str, str], timeout_s: float = 120.0
) -> dict[str, object]:
    """Open ``workspace`` in a fresh app process; the figures of :data:`PROBE`."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(workspace), str(png), str(timeout_s)],
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s + 120,
    )
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"probe failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def fmt(name: str, r: dict[str, object]) -> str:
    return (
        f"{name:<24} facilities {r['facilities']:>6}  drawn after {r['drawn_s']:6.2f} s  "
        f"max gap {r['max_ms']:7.1f} ms (GUI-thread CPU {r['cpu_ms']:6.1f} ms)  p99 {r['p99_ms']:6.1f} ms  gaps >{LIMIT_MS:.0f} ms: "
        f"{r['over_100']:>3}  markers {r['markers']}  complete {r['complete']}  "
        f"map ink {100 * float(r['ink']):.1f} %  one move {r['move_ms']:6.1f} ms CPU  exit {r['exit']}"
    )


def main() -> int:
    from benchmarks.bench_gui_start import _env
    from benchmarks.scale_workspace import DEMO, make_scale_workspace

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="facilities to add to the demo")
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspace and PNGs here")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out = args.keep or tmp
        out.mkdir(parents=True, exist_ok=True)
        big = out / f"scale_{args.n}.gpkg"
        if not big.exists():
            make_scale_workspace(big, n=args.n)
        env = {**_env(tmp), "RELIEFDESK_CACHE_DIR": str(tmp / "cache")}
        results = [
            ("demo (baseline)", open_and_probe(DEMO, out / "demo_1.png", env, args.timeout)),
            (f"{args.n:,} facilities", open_and_probe(big, out / "scale.png", env, args.timeout)),
            ("demo again", open_and_probe(DEMO, out / "demo_2.png", env, args.timeout)),
        ]
    for name, r in results:
        print(fmt(name, r))
    demos = [r for n, r in results if n != f"{args.n:,} facilities"]
    demo = min(demos, key=lambda r: r["max_ms"])
    demo_move = min(float(r["move_ms"]) for r in demos)
    scale = results[1][1]
    print(
        f"ratio 10k / demo: max gap {float(scale['max_ms']) / max(float(demo['max_ms']), 1e-9):.1f}x, "
        f"time to drawn map {float(scale['drawn_s']) / max(float(demo['drawn_s']), 1e-9):.1f}x, "
        f"one move {float(scale['move_ms']) / max(demo_move, 1e-9):.1f}x"
    )
    ok = float(scale["cpu_ms"]) <= LIMIT_MS and scale["exit"] == 0 and float(scale["ink"]) > 0.05
    print(
        f"goal (no GUI-thread work > {LIMIT_MS:.0f} ms between two ticks, the map drawn and not "
        f"blank): {'met' if ok else 'NOT met'} (GUI-thread CPU {scale['cpu_ms']} ms; wall-clock "
        f"max gap {scale['max_ms']} ms against the demo's {demo['max_ms']} ms in the same run — "
        f"the rest is waiting for a core)"
    )
    wall_ok = float(scale["max_ms"]) <= WALL_LIMIT_MS
    print(
        f"goal (wall-clock gap ≤ {WALL_LIMIT_MS:.0f} ms while opening): "
        f"{'met' if wall_ok else 'NOT met'} ({scale['max_ms']} ms)"
    )
    move_ok = float(scale["move_ms"]) <= MOVE_LIMIT_MS
    print(
        f"goal (one move ≤ {MOVE_LIMIT_MS:.0f} ms of GUI-thread CPU at {args.n:,}): "
        f"{'met' if move_ok else 'NOT met'} ({scale['move_ms']} ms; demo {demo_move} ms)"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2-core machine, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
