"""The demo main window shared by a GUI test module (pytest-qt, offscreen).

QtWebEngine start-up is the slow part of a GUI test, so a module opens one window on a copy of
the bundled demo county and its tests share it. :func:`demo_window_fixtures` makes the module's
two fixtures: ``env`` (a folder for the module, also the window's settings, recovery and log
dirs) and the window itself, closed with its workspace marked clean at the end.

    env, window = demo_window_fixtures("gui")

A test that opens its own window closes it with :func:`close_window` (in a ``finally``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

#: How long a window may take to be ready (map page loaded, workspace read, jobs finished).
READY_TIMEOUT_MS = 60000


def demo_window_fixtures(
    folder: str,
    *,
    name: str = "window",
    size: tuple[int, int] | None = (1400, 900),
    ready: Sequence[Callable[[Any], bool]] = (),
) -> tuple[Any, Any]:
    """Module-scoped fixtures ``env`` and ``name``: a ``folder`` for the module's files and
    app dirs, and a :class:`gui.main_window.MainWindow` (resized to ``size``; ``None``: its
    default size) showing a copy of the demo county, returned once each ``ready`` condition
    holds (in order, each within :data:`READY_TIMEOUT_MS`)."""

    @pytest.fixture(scope="module", name="env")
    def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
        d = tmp_path_factory.mktemp(folder)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("RELIEFDESK_SETTINGS_DIR", str(d / "settings"))
            mp.setenv("RELIEFDESK_RECOVERY_DIR", str(d / "recovery"))
            mp.setenv("RELIEFDESK_LOG_DIR", str(d / "log"))
            yield d

    @pytest.fixture(scope="module", name=name)
    def window(qapp: Any, env: Path, demo_workspace_path: Path) -> Iterator[Any]:
        from pytestqt.qtbot import QtBot

        from gui.main_window import MainWindow

        ws = env / "demo.gpkg"
        shutil.copy(demo_workspace_path, ws)
        w = MainWindow(interactive=False)
        if size is not None:
            w.resize(*size)
        w.show()
        w.open_workspace(ws)
        bot = QtBot(qapp)
        for condition in ready:
            bot.waitUntil(lambda c=condition: c(w), timeout=READY_TIMEOUT_MS)
        yield w
        close_window(w)

    return env, window


def close_window(window: Any) -> None:
    """Close a test's :class:`gui.main_window.MainWindow` for good: its workspace marked clean
    (no 保存更改？ question), closed, its background job finished (up to 10 s), the map page
    disposed and the window deleted (pending deletions processed)."""
    from PyQt6.QtWidgets import QApplication

    window.session.undo_stack.setClean()
    window.close()
    window.runner.wait(10000)
    window.map.dispose()
    window.deleteLater()
    app = QApplication.instance()
    if app is not None:
        app.processEvents()
