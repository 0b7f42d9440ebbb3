"""Application start: QApplication, global excepthook, the main window, screenshot mode.

``main(workspace, screenshot)`` is called by ``app.py``. With ``screenshot`` it opens the window,
waits until Leaflet has really drawn the map (probing ``typeof L``, the marker/feature counts and
the page's own "drawn" flag — every layer on the map, clustered layers fully loaded, painted —
through ``runJavaScript``; ``loadFinished`` alone says True even for a blank offline page) and
until the grabbed map is not blank, saves a PNG of the whole window and returns 0. At the time
limit it still saves what is there, says on stderr that the map was not complete and returns 3.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from gis.paths import log_dir
from gis.version import __version__

log = logging.getLogger("reliefdesk")

SCREENSHOT_TIMEOUT_S = 60.0


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), else None."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def setup_logging() -> Path:
    """Log to ``reliefdesk.log`` in :func:`log_dir` (and warnings to stderr)."""
    directory = log_dir()
    path = directory / "reliefdesk.log"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._reliefdesk = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_reliefdesk", False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return path


class ExceptHook:
    """Global excepthook: log the traceback, show it in a dialog; never a silent exit."""

    def __init__(
        self, window: Any = None, *, interactive: bool = True, log_file: Path | None = None
    ) -> None:
        self.window = window
        self.interactive = interactive
        self.log_file = log_file
        self.errors: list[str] = []
        self._previous = sys.excepthook

    def install(self) -> ExceptHook:
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous

    def __call__(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        self.errors.append(text)
        log.error("unhandled exception\n%s", text)
        print(text, file=sys.stderr)
        from gui.i18n import tr

        message = f"{exc_type.__name__}: {exc}"
        if self.window is not None:
            with contextlib.suppress(Exception):  # the panel may be gone during shutdown
                self.window.messages.add("error", tr("程序错误：") + message, text)
        if not self.interactive:
            return
        try:
            from PyQt6.QtCore import Qt
            from PyQt6.QtWidgets import QApplication, QMessageBox

            if QApplication.instance() is None:
                return
            box = QMessageBox(self.window)
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle(tr("程序错误"))
            box.setTextFormat(Qt.TextFormat.PlainText)
            hint = tr("错误已记录到 {path}。可以继续工作；建议保存后重新启动。").format(
                path=self.log_file or ""
            )
            box.setText(f"{message}\n\n{hint}")
            box.setDetailedText(text)
            box.exec()
        except Exception:  # never raise from the hook
            pass


def _prepare_environment() -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def choose_workspace(workspace: Path | None, settings: Any, *, use_last: bool) -> Path | None:
    """The file to open: the given one, else the last one used, else the bundled demo."""
    from gui.main_window import DEMO_WORKSPACE

    if workspace is not None:
        return Path(workspace)
    if use_last:
        last = settings.value("workspace/last", "")
        if last and Path(str(last)).exists():
            return Path(str(last))
    return DEMO_WORKSPACE if DEMO_WORKSPACE.exists() else None


def screenshot_view() -> tuple[float, float, int] | None:
    """``RELIEFDESK_SCREENSHOT_VIEW=lon,lat,zoom``: the map view of a ``--screenshot`` (else the
    whole county). A malformed value is ignored with a note on stderr."""
    raw = os.environ.get("RELIEFDESK_SCREENSHOT_VIEW", "").strip()
    if not raw:
        return None
    try:
        lon, lat, zoom = (p.strip() for p in raw.split(","))
        return float(lon), float(lat), int(zoom)
    except ValueError:
        print(f"RELIEFDESK_SCREENSHOT_VIEW={raw!r} ignored: expected lon,lat,zoom", file=sys.stderr)
        return None


class ScreenshotProbe:
    """Polls the page until the map has really drawn, then saves the window as PNG."""

    def __init__(self, window: Any, out: Path, *, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> None:
        from PyQt6.QtCore import QTimer

        self.window = window
        self.out = Path(out)
        self.deadline = time.monotonic() + timeout_s
        self.started = time.monotonic()
        self.exit_code: int | None = None
        self.stats: dict[str, Any] = {}
        self.timer = QTimer(window)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._tick)
        self._waiting = False
        self._settle = 0
        #: the map is complete (page says drawn); the grab may still lag a frame or two
        self._complete = False
        self._view_set = False
        self._view_wait = 0

    def start(self) -> None:
        self.timer.start()

    def expected(self) -> dict[str, int]:
        s = self.window.session.scenario
        exp = {
            k: len(getattr(s, k))
            for k in ("shelters", "stockpiles", "teams", "incidents", "hazards")
        }
        session = self.window.session
        edges = session.road_edges
        exp["roads"] = 1 if (edges is not None and len(edges)) or session.roads_source else 0
        return exp

    def _tick(self) -> None:
        from PyQt6.QtWidgets import QApplication

        if self.window.load_error:
            self._finish(2, f"error: {self.window.load_error}")
            return
        if time.monotonic() > self.deadline:
            self._save()
            self._finish(
                3,
                f"error: the map was not complete within the time limit; saved {self.out} "
                f"anyway; last probe {self.stats}",
            )
            return
        if self._settle:
            self._settle -= 1
            if self._settle == 0:
                QApplication.processEvents()
                if map_is_blank(self.window.map.grab().toImage()):
                    self._settle = 2  # Chromium has not delivered the drawn frame yet
                    return
                self._save()
                age = process_age_s()
                since = f", {age:.2f} s since process start" if age is not None else ""
                self._finish(
                    0, f"screenshot {self.out} after {time.monotonic() - self.started:.2f} s{since}"
                )
            return
        if self._view_wait:
            self._view_wait -= 1
            return
        if self._waiting or not self.window.map.ready or self.window.session.path is None:
            return
        if self.window.session.scenario.closures and (
            self.window.session.network is None or self.window.runner.busy
        ):
            return  # closures need the road network to show the affected roads
        self._waiting = True
        self.window.map.evaluate(
            "(typeof L === 'undefined' || !window.RD) ? 'null' : JSON.stringify(RD.stats())",
            self._got,
        )

    def _got(self, result: Any) -> None:
        self._waiting = False
        try:
            stats = json.loads(result) if isinstance(result, str) else None
        except ValueError:
            stats = None
        if not stats or not stats.get("leaflet"):
            return
        self.stats = stats
        counts = stats.get("counts", {})
        exp = self.expected()
        for layer in ("shelters", "stockpiles", "teams", "incidents", "hazards"):
            if counts.get(layer, 0) != exp[layer]:
                return
        if exp["roads"] and not any(k.startswith("roads:") and v for k, v in counts.items()):
            return
        points = sum(exp[k] for k in ("shelters", "stockpiles", "teams", "incidents"))
        if points and stats.get("markers", 0) == 0:
            return
        if not stats.get("painted") or not stats.get("drawn", True):
            return
        view = screenshot_view()
        if view is not None and not self._view_set:
            self._view_set = True  # RELIEFDESK_SCREENSHOT_VIEW: set it, then probe again
            self.window.map.pan_to(*view)
            self._view_wait = 30  # ticks (1.5 s) for the zoom animation and the redraw
            return
        self._complete = True
        self._settle = 2  # a last frame for the Qt side

    def _save(self) -> None:
        self.window.grab().save(str(self.out), "PNG")

    def _finish(self, code: int, message: str) -> None:
        from PyQt6.QtWidgets import QApplication

        self.timer.stop()
        self.exit_code = code
        print(message, file=sys.stderr if code else sys.stdout)
        self.window.session.undo_stack.setClean()
        QApplication.instance().exit(code)


def map_is_blank(image: Any) -> bool:
    """True when a grabbed map shows one colour only (nothing drawn yet), judged on a grid of
    about 4,000 sample pixels."""
    w, h = image.width(), image.height()
    if w < 2 or h < 2:
        return True
    first = image.pixel(0, 0)
    step_x, step_y = max(1, w // 80), max(1, h // 50)
    return all(image.pixel(x, y) == first for x in range(0, w, step_x) for y in range(0, h, step_y))


def _preimport() -> None:
    """Import the workspace reader (geopandas, pyogrio) while Qt starts up.

    Only what the first paint needs: gis.roads (scipy) loads with the road network after the
    map has drawn, so it does not delay the start.
    """
    try:
        import gis.workspace  # noqa: F401
    except Exception:  # the real import will report it
        log.exception("pre-import failed")


def main(workspace: Path | str | None = None, screenshot: Path | None = None) -> int:
    """Run the desktop application; return the exit code. A ``str`` workspace is a shared
    database URL (opened through 文件 → 连接共享数据库…'s controller)."""
    _prepare_environment()
    import threading

    threading.Thread(target=_preimport, name="preimport", daemon=True).start()
    import PyQt6.QtWebEngineWidgets  # noqa: F401  (must precede QApplication)
    from PyQt6.QtCore import QCoreApplication, Qt, QTimer
    from PyQt6.QtWidgets import QApplication

    from gui.i18n import install_language, tr
    from gui.main_window import MainWindow, app_settings

    log_file = setup_logging()
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    QCoreApplication.setOrganizationName("ReliefDesk")
    QCoreApplication.setApplicationName("ReliefDesk")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(
        [sys.argv[0] if sys.argv and sys.argv[0] else "reliefdesk"]
    )
    settings = app_settings()
    language = install_language(str(settings.value("ui/language", "zh_CN") or "zh_CN"))
    interactive = screenshot is None
    window = MainWindow(interactive=interactive, settings=settings, language=language)
    hook = ExceptHook(window, interactive=interactive, log_file=log_file).install()
    shared_url = workspace if isinstance(workspace, str) else None
    path = choose_workspace(None if shared_url else workspace, settings, use_last=interactive)

    def open_it() -> None:
        if shared_url is not None:
            window.shared_db.open(shared_url)
        elif path is not None:
            window.open_workspace(path)

    if screenshot is not None:
        window.resize(1600, 1000)
    window.show()
    probe: ScreenshotProbe | None = None
    if screenshot is not None:
        if path is None:
            print("error: no workspace to show (bundled demo missing)", file=sys.stderr)
            return 2
        open_it()
        probe = ScreenshotProbe(window, screenshot)
        probe.start()
    elif path is not None:

        def start() -> None:
            if not window.offer_recovery():
                open_it()

        QTimer.singleShot(0, start)
    else:
        QTimer.singleShot(0, window.offer_recovery)
        window.messages.add(
            "warning", tr("没有可打开的工作区：请用“文件 → 打开工作区”选择 .gpkg 文件")
        )
    try:
        code = app.exec()
    finally:
        # let background readers (e.g. the road network) end before the interpreter shuts down
        window.runner.cancel_all()
        window.runner.wait(5000)
        hook.uninstall()
    if probe is not None:
        window.close()
        window.map.dispose()
        code = probe.exit_code if probe.exit_code is not None else 3
        if hook.errors and code == 0:
            code = 1
    return int(code)
