"""The real application window under Xvfb (xcb platform, not offscreen): screenshot mode.

Runs ``gui.app_main.main(demo, screenshot=PNG)`` in a subprocess under ``xvfb-run`` in Chinese
and in English, and checks the PNGs are the whole window with a drawn map (not a blank page).
Set ``RELIEFDESK_KEEP_SCREENSHOTS=DIR`` to keep copies for a human look.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.xvfb]

import gui  # noqa: E402

ROOT = Path(gui.__file__).resolve().parents[1]

SCRIPT = """
import sys
from pathlib import Path
from gui.app_main import main
sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
"""


def _run(ws: Path, out: Path, home: Path, language: str) -> subprocess.CompletedProcess:
    settings = home / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "reliefdesk.ini").write_text(f"[ui]\nlanguage={language}\n", encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env.update(
        QT_QPA_PLATFORM="xcb",
        QTWEBENGINE_DISABLE_SANDBOX="1",
        RELIEFDESK_SETTINGS_DIR=str(settings),
        RELIEFDESK_RECOVERY_DIR=str(home / "recovery"),
        RELIEFDESK_LOG_DIR=str(home / "log"),
        PYTHONPATH=str(ROOT),
    )
    cmd = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1600x1000x24",
        sys.executable,
        "-c",
        SCRIPT,
        str(ws),
        str(out),
    ]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _check_png(path: Path) -> None:
    from PyQt6.QtGui import QColor, QImage

    img = QImage(str(path))
    assert not img.isNull()
    assert img.width() >= 1200 and img.height() >= 800
    # the map area (centre of the window) holds many colours: roads, markers, outline
    colours = set()
    trunk = QColor("#f28c28")
    near_trunk = 0
    for y in range(img.height() // 5, img.height() * 3 // 5, 3):
        for x in range(img.width() // 5, img.width() * 4 // 5, 3):
            c = img.pixelColor(x, y)
            colours.add(c.rgb())
            if (
                abs(c.red() - trunk.red())
                + abs(c.green() - trunk.green())
                + abs(c.blue() - trunk.blue())
                < 60
            ):
                near_trunk += 1
    assert len(colours) > 50, "map area looks blank"
    assert near_trunk > 20, "no trunk-road pixels: the road layer did not draw"


@pytest.mark.skipif(
    shutil.which("xvfb-run") is None, reason="xvfb-run (Debian package xvfb) is not installed"
)
def test_window_under_xvfb_screenshots(tmp_path: Path, demo_copy: Path) -> None:
    ws = demo_copy
    keep = os.environ.get("RELIEFDESK_KEEP_SCREENSHOTS")
    for language in ("zh_CN", "en"):
        out = tmp_path / f"window_{language}.png"
        proc = _run(ws, out, tmp_path / language, language)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "screenshot" in proc.stdout
        assert out.exists() and out.stat().st_size > 50_000
        _check_png(out)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(out, Path(keep) / out.name)
