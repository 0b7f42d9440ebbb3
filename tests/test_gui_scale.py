"""A 10,000-facility workspace opens and draws a readable map: every feature drawn and counted,
clustered, the warnings summarised, large tables filled when shown, single markers updated
(issue 11 item 9: ``--screenshot`` saved a blank map).

The workspace (the demo county plus 5,000 shelters, 2,500 stockpiles and 2,500 hazards on road
nodes, fixed seed) is written once per session by
:func:`benchmarks.scale_workspace.make_scale_workspace` and shared by the tests here.

How long the event loop is blocked while it opens and what one edit costs the GUI thread are
speed figures, measured by ``benchmarks/bench_gui_scale.py`` against the demo county in the same
run (no timed assertions here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from benchmarks.scale_workspace import make_scale_workspace  # noqa: E402
from gui import map_page  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]
N = 10_000
POINT_KINDS = ("shelters", "stockpiles", "teams", "incidents")


@pytest.fixture(scope="session")
def scale_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scale_workspace(tmp_path_factory.mktemp("scale") / "scale_10k.gpkg", n=N)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SETTINGS", "RECOVERY", "LOG", "CACHE"):
        monkeypatch.setenv(f"RELIEFDESK_{name}_DIR", str(tmp_path / name.lower()))
    return tmp_path


def test_page_data_serialised_in_pieces_is_the_same_text() -> None:
    value = {
        "points": [{"id": i, "tip": "<b>&</b>\u2028"} for i in range(1234)],
        "fc": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": [[1.5, 2.0]] * 700},
                    "properties": {"n": "x"},
                }
            ],
        },
        "ints": list(range(1001)),
        "empty": [],
        "none": None,
    }
    assert map_page.js_literal_chunked(value) == map_page.js_literal(value)


def test_10k_workspace_opens_and_draws_every_feature(qtbot, env: Path, scale_workspace: Path):
    w = MainWindow(interactive=False)
    w.resize(1600, 1000)
    w.show()
    qtbot.wait(100)
    box: dict[str, dict] = {}

    asked: list[bool] = []

    def got(result: str) -> None:
        asked.clear()
        if isinstance(result, str):  # None while a page is being replaced
            box["st"] = json.loads(result)

    def drawn() -> bool:
        if w.session.path is None or not w.map.ready:
            return False
        if not asked:
            asked.append(True)
            w.map.evaluate("JSON.stringify(RD.stats())", got)
        return bool(box.get("st", {}).get("drawn"))

    try:
        w.open_workspace(scale_workspace)
        qtbot.waitUntil(drawn, timeout=180_000)
        s = w.session.scenario
        assert sum(len(getattr(s, k)) for k in (*POINT_KINDS, "hazards")) >= N
        st = box["st"]
        for kind in (*POINT_KINDS, "hazards"):
            assert st["counts"][kind] == len(getattr(s, kind)), kind
        # clustered: a readable number of icons on screen, not 10,000 overlapping markers
        assert st["clusters"] > 0 and 20 <= st["markers"] < 2000, st
        # thousands of planner warnings: 20 rows and one summary row, all counted
        assert w.messages.count_by_level.get("warning", 0) >= 2000
        assert w.messages.topLevelItemCount() <= 40
        # a large table behind another tab is filled when its tab is shown
        table = w.tables["shelters"]
        w.table_docks["shelters"].raise_()
        qtbot.waitUntil(lambda: not table.pending, timeout=10_000)
        assert table.model.rowCount() == len(s.shelters)
        # selecting a clustered marker shows it out of its cluster
        target = s.shelters[-1].id
        w.session.select(target, "table")
        qtbot.waitUntil(
            lambda: (
                w.map.evaluate(f"RD.isSelected({json.dumps(target)})", lambda r: box.update(sel=r))
                or bool(box.get("sel"))
            ),
            timeout=30_000,
        )
        # an edit of one facility moves that marker, the layer keeps every feature (its GUI-thread
        # cost is bench_gui_scale.py's "one move" figure)
        moved = s.shelters[-2]
        lon = round(moved.location.lon + 0.01, 6)
        w.session.move(moved.id, lon, moved.location.lat, "move")
        where = f"JSON.stringify([RD.byId[{json.dumps(moved.id)}].getLatLng().lng, RD.counts])"

        def moved_on_map() -> bool:
            w.map.evaluate(where, lambda r: box.update(moved=json.loads(r) if r else None))
            got = box.get("moved")
            return bool(got) and abs(got[0] - lon) < 1e-6

        qtbot.waitUntil(moved_on_map, timeout=30_000)
        assert box["moved"][1]["shelters"] == len(s.shelters)
        w.session.undo_stack.undo()
        lon = moved.location.lon
        qtbot.waitUntil(moved_on_map, timeout=30_000)
        # move mode reaches markers inside clusters (draggable once they are on the map)
        w.set_move_mode(True)
        probe = f"RD.byId[{json.dumps(s.shelters[0].id)}].options.draggable === true"
        qtbot.waitUntil(
            lambda: w.map.evaluate(probe, lambda r: box.update(drag=r)) or box.get("drag") is True,
            timeout=30_000,
        )
        w.set_move_mode(False)
        # a hidden clustered layer redrawn while hidden does not hold the "drawn" flag back
        script = (
            "RD.setLayerVisible('stockpiles', false);"
            "RD.setLayerData('stockpiles', RD.data.layers.stockpiles);"
            "RD.setLayerVisible('stockpiles', true);"
            "JSON.stringify([RD.loading, RD.drawn, RD.counts.stockpiles])"
        )
        w.map.evaluate(script, lambda r: box.update(hidden=json.loads(r)))
        qtbot.waitUntil(lambda: "hidden" in box, timeout=30_000)
        assert box["hidden"] == [0, True, len(s.stockpiles)]
    finally:
        close_window(w)


def test_10k_screenshot_shows_the_map(env: Path, scale_workspace: Path) -> None:
    from PyQt6.QtGui import QImage

    from benchmarks.bench_gui_scale import map_ink

    out = env / "scale.png"
    proc = subprocess.run(
        [sys.executable, "app.py", "--screenshot", str(out), str(scale_workspace)],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "screenshot" in proc.stdout
    image = QImage(str(out))
    assert image.width() == 1600 and image.height() == 1000
    # the middle of the map (left dock ~220 px, right dock from ~1060 px in a 1600 px window)
    middle = image.copy(400, 200, 500, 400)
    assert map_ink(middle) > 0.05, "the map in the screenshot is blank"


def test_screenshot_at_the_time_limit_still_saves_and_says_so(qtbot, qapp, env: Path, capsys):
    from PyQt6.QtCore import QTimer

    from gui.app_main import ScreenshotProbe

    w = MainWindow(interactive=False)
    w.resize(800, 600)
    w.show()
    try:
        out = env / "partial.png"
        probe = ScreenshotProbe(w, out, timeout_s=0.0)
        # as in the app: the probe ends the application's event loop (QApplication.exit
        # outside a running loop would leave later loops quitting at once)
        QTimer.singleShot(0, probe._tick)  # past the deadline, nothing drawn
        assert qapp.exec() == 3
        assert probe.exit_code == 3
        assert out.is_file() and out.stat().st_size > 0
        assert "not complete" in capsys.readouterr().err
    finally:
        close_window(w)
