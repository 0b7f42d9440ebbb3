"""Screenshots of a dispatch run in the real main window (a look at it as an operator would).

Opens a copy of the bundled demo workspace in :class:`gui.main_window.MainWindow`, runs a dispatch
through the dispatch panel (its toolbar action, with the given time limit), waits until the routes
are drawn on the map, and saves PNGs: the whole window, and the dispatch dock on each result tab.
With ``--export`` it also exports the plan (``panel.export``) and renders the PDF's first pages
with ``pdftoppm``.

Usage::

    .venv/bin/python tools/screenshot_dispatch.py --out /tmp/shots --lang en --seconds 5 --export

Runs offscreen when there is no display. Exit code 0 on success; the file names are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _wait(app: Any, cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Process Qt events until ``cond()`` holds; raise TimeoutError naming ``what``."""
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def _js(app: Any, view: Any, script: str, timeout_s: float = 30.0) -> Any:
    box: dict[str, Any] = {}
    view.evaluate(script, lambda r: box.setdefault("r", r))
    _wait(app, lambda: "r" in box, timeout_s, f"JS {script[:40]!r}")
    return box["r"]


def _settle(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def run(out: Path, *, lang: str, seconds: int, export: bool, size: tuple[int, int]) -> list[Path]:
    """Take the screenshots into ``out``; return the files written."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="rd_shots_"))
    os.environ["RELIEFDESK_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ["RELIEFDESK_RECOVERY_DIR"] = str(tmp / "recovery")
    os.environ.setdefault("RELIEFDESK_LOG_DIR", str(tmp / "log"))

    import PyQt6.QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from PyQt6.QtCore import QCoreApplication, Qt
    from PyQt6.QtWidgets import QApplication

    from gui.i18n import install_language
    from gui.main_window import DEMO_WORKSPACE, MainWindow

    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(["reliefdesk-shots"])
    language = install_language(lang)
    out.mkdir(parents=True, exist_ok=True)
    ws = tmp / "demo.gpkg"
    shutil.copy(DEMO_WORKSPACE, ws)
    written: list[Path] = []
    w = MainWindow(interactive=False, language=language)
    try:
        w.resize(*size)
        w.show()
        panel = w.dispatch_panel
        w.open_workspace(ws)
        _wait(app, lambda: w.map.ready and w.session.network is not None, 120, "map + roads")
        _wait(app, lambda: not w.runner.busy, 120, "background loading")
        panel.show()
        panel.raise_()
        panel.seconds.setValue(seconds)
        done: list[Any] = []
        panel.sig_run_finished.connect(lambda plan, cancelled: done.append(plan))
        panel.sig_run_failed.connect(lambda m: done.append(RuntimeError(m)))
        t0 = time.monotonic()
        panel.run_action.trigger()
        _wait(app, lambda: bool(done), seconds + 120, "the dispatch run")
        if isinstance(done[0], Exception):
            raise done[0]
        print(f"dispatch finished in {time.monotonic() - t0:.1f} s: {panel.summary.text()}")
        n = len(panel.routes_payload["features"])
        _wait(
            app,
            lambda: _js(app, w.map, "RD.counts.routes") == n,
            30,
            "the routes on the map",
        )
        _settle(app, 1.0)
        tag = lang.replace("_", "-")
        panel.tabs.setCurrentIndex(3)  # vehicle routes
        _settle(app, 0.3)
        shot = out / f"window_{tag}.png"
        w.grab().save(str(shot), "PNG")
        written.append(shot)
        # the same, zoomed to the planned routes (numbered stops and arrowheads readable)
        _js(app, w.map, "RD.map.fitBounds(RD.groups.routes.getBounds(), {animate: false}); 1")
        _settle(app, 1.5)
        shot = out / f"window_{tag}_routes.png"
        w.grab().save(str(shot), "PNG")
        written.append(shot)
        for i in range(panel.tabs.count()):
            panel.tabs.setCurrentIndex(i)
            _settle(app, 0.2)
            p = out / f"dock_{tag}_tab{i}.png"
            panel.grab().save(str(p), "PNG")
            written.append(p)
        if export:
            files: list[Any] = []
            panel.sig_exported.connect(files.append)
            panel.export(out / f"export_{tag}", open_pdf=False)
            _wait(app, lambda: bool(files), 120, "the export")
            pdf = Path(files[0]["orders.pdf"])
            prefix = out / f"pdf_{tag}"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "3", str(pdf), str(prefix)],
                check=True,
            )
            written.append(pdf)
            written.extend(sorted(out.glob(f"pdf_{tag}*.png")))
    finally:
        w.session.undo_stack.setClean()
        w.close()
        w.runner.cancel_all()
        w.runner.wait(10000)
        w.map.dispose()
        w.deleteLater()
        app.processEvents()
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("screenshots"))
    ap.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN")
    ap.add_argument("--seconds", type=int, default=5, help="solver time limit (s)")
    ap.add_argument("--export", action="store_true", help="also export and render the PDF")
    ap.add_argument("--size", default="1600x1000", help="window size WxH")
    args = ap.parse_args(argv)
    wh = tuple(int(v) for v in args.size.lower().split("x"))
    files = run(
        args.out, lang=args.lang, seconds=args.seconds, export=args.export, size=(wh[0], wh[1])
    )
    for f in files:
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
