"""视图 → 底图 and the map tools in the window, offscreen on the demo county (pytest-qt):
the workspace base map is drawn with no network, an MBTiles choice is served through the
``rdtiles:`` scheme and persists per workspace, GCJ-02 tiles are placed within a metre,
measuring, search with fly-to, coordinates, export of the view."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from PyQt6.QtGui import QGuiApplication, QImage  # noqa: E402

from gis import basemap as bm  # noqa: E402
from gis.coords import wgs84_to_gcj02  # noqa: E402
from tests.gui_fixtures import demo_window_fixtures  # noqa: E402
from tests.test_basemap import HEJIANG, make_mbtiles  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30000


env, win = demo_window_fixtures(
    "basemap",
    name="win",
    ready=(
        lambda w: w.map.ready and w.session.network is not None,
        lambda w: not w.runner.busy,
    ),
)


def js(qtbot, w, script: str):
    box: dict = {}
    w.map.evaluate(script, lambda r: box.setdefault("r", r))
    qtbot.waitUntil(lambda: "r" in box, timeout=TIMEOUT_MS)
    return box["r"]


def _network_allowed(win) -> bool:
    from PyQt6.QtWebEngineCore import QWebEngineSettings

    attr = QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls
    return win.map.page().settings().testAttribute(attr)


def test_the_workspace_base_map_is_drawn_by_default_without_network(qtbot, win) -> None:
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseKind") == "workspace", timeout=TIMEOUT_MS)
    counts = json.loads(js(qtbot, win, "JSON.stringify(RD.baseCounts)"))
    assert counts["land"] >= 1 and counts["water"] > 0 and counts["roads"] > 0
    assert counts["labels"] >= 2  # the county and its rivers
    labels = js(
        qtbot,
        win,
        "Array.from(document.querySelectorAll('.rd-base-label'))"
        ".map(function (e) { return e.textContent; }).join('|')",
    )
    assert "合江县" in labels.split("|") and "长江" in labels  # the county by its own name
    # nothing the page loaded came from the network (Leaflet's own credit is a link, not a load)
    loaded = js(qtbot, win, "performance.getEntriesByType('resource').map(e => e.name).join(' ')")
    assert "http://" not in loaded and "https://" not in loaded
    srcs = js(
        qtbot, win, "Array.from(document.querySelectorAll('[src]')).map(e => e.src).join(' ')"
    )
    assert "http://" not in srcs and "https://" not in srcs
    assert js(qtbot, win, "document.querySelectorAll('img.leaflet-tile').length") == 0
    assert win.basemap_actions["workspace"].isChecked()
    assert not _network_allowed(win)  # the page may not reach remote URLs at all
    # its roads lie under the road layer: drawn only while that layer is hidden
    assert js(qtbot, win, "RD.baseRoadsShown()") is False
    win.map.set_layer_visible("roads", False)
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseRoadsShown()") is True, timeout=TIMEOUT_MS)
    win.map.set_layer_visible("roads", True)
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseRoadsShown()") is False, timeout=TIMEOUT_MS)


def test_an_mbtiles_base_map_is_served_and_persists_per_workspace(qtbot, win, env) -> None:
    path = env / "county.mbtiles"
    make_mbtiles(path, HEJIANG, zooms=range(8, 13))
    assert win.basemap.set_choice(bm.BasemapChoice("mbtiles", str(path)))
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseKind") == "tiles", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: win.basemap.handler.served > 0, timeout=TIMEOUT_MS)
    loaded = "document.querySelectorAll('img.leaflet-tile-loaded').length"
    qtbot.waitUntil(lambda: js(qtbot, win, loaded) > 0, timeout=TIMEOUT_MS)
    assert win.basemap_actions["mbtiles"].isChecked() and not _network_allowed(win)
    stored = win.settings.value(bm.settings_key(win.session.path))
    assert bm.BasemapChoice.from_json(stored) == bm.BasemapChoice("mbtiles", str(path))
    # reopening the workspace (a new page) draws the stored choice again
    ws = win.session.path
    win.open_workspace(ws)
    qtbot.waitUntil(lambda: win.map.ready and win.session.network is not None, timeout=60000)
    qtbot.waitUntil(lambda: not win.runner.busy, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseKind") == "tiles", timeout=TIMEOUT_MS)
    assert win.basemap.choice == bm.BasemapChoice("mbtiles", str(path))
    # another workspace has its own choice
    assert win.settings.value(bm.settings_key(env / "other.gpkg")) is None
    # a broken file is refused with a message and the choice stays
    (env / "broken.mbtiles").write_text("no")
    assert not win.basemap.set_choice(bm.BasemapChoice("mbtiles", str(env / "broken.mbtiles")))
    assert win.basemap.choice.path == str(path)
    assert win.basemap.set_choice(bm.DEFAULT)
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseKind") == "workspace", timeout=TIMEOUT_MS)


def _pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    n = 256 * 2**z
    return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n


def test_gcj02_tiles_are_placed_on_the_wgs84_data_within_a_metre(qtbot, win) -> None:
    # the AMap layer exactly as the menu makes it, but its URL on the local scheme (no network)
    spec = bm.page_spec(
        bm.BasemapChoice("online", source="amap"), bounds=win.session.scenario.boundary.bounds
    )
    spec["url"] = "rdtiles:/none/{z}/{x}/{y}"
    assert js(qtbot, win, f"RD.setBasemap({json.dumps(spec)})") == "tiles"
    z = 18  # 0.53 m per pixel: what is left is the browser's sub-pixel rounding
    for lon, lat in ((105.8336, 28.8116), (105.62, 28.95), (106.1, 28.63)):
        js(qtbot, win, f"RD.map.setView([{lat}, {lon}], {z}, {{animate: false}}); 1")
        glon, glat = wgs84_to_gcj02(lon, lat)
        gx, gy = _pixel(float(glon), float(glat), z)  # the GCJ-02 pixel of this place
        tx, ty = int(gx // 256), int(gy // 256)
        qtbot.waitUntil(
            lambda tx=tx, ty=ty: js(qtbot, win, f"!!RD.tileRect({z}, {tx}, {ty})"),
            timeout=TIMEOUT_MS,
        )
        rect = js(qtbot, win, f"RD.tileRect({z}, {tx}, {ty})")
        drawn = (rect["left"] + gx - tx * 256, rect["top"] + gy - ty * 256)
        want = js(
            qtbot,
            win,
            f"(function(p){{return [p.x, p.y];}})(RD.map.latLngToContainerPoint([{lat}, {lon}]))",
        )
        m_per_px = 156543.03392 * math.cos(math.radians(lat)) / 2**z
        err_m = math.hypot(drawn[0] - want[0], drawn[1] - want[1]) * m_per_px
        print(f"GCJ-02 tile placement error at {lon}, {lat}: {err_m:.2f} m")
        assert err_m < 1.0, (lon, lat, err_m)
        # without the shift the tile would sit hundreds of metres off
        shift = math.hypot(*(a - b for a, b in zip(_pixel(lon, lat, z), (gx, gy)))) * m_per_px
        assert shift > 100
    assert win.basemap.set_choice(bm.DEFAULT)


def test_measure_distance_and_area(qtbot, win) -> None:
    tools = win.map_tools
    js(qtbot, win, "RD.measureCoords('line', [[105.8, 28.8], [105.9, 28.8]])")
    qtbot.waitUntil(lambda: tools.last_measurement is not None, timeout=TIMEOUT_MS)
    m = tools.last_measurement
    # 0.1° of longitude at 28.8° N on the ellipsoid ≈ 9.77 km
    assert m.kind == "line" and 9_740 < m.length_m < 9_790
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.measureText()") == tools.last_text)
    assert "km" in tools.last_text
    ring = [[105.8, 28.8], [105.9, 28.8], [105.9, 28.9], [105.8, 28.9]]
    js(qtbot, win, f"RD.measureCoords('polygon', {json.dumps(ring)})")
    qtbot.waitUntil(lambda: tools.last_measurement.kind == "polygon", timeout=TIMEOUT_MS)
    assert 107e6 < tools.last_measurement.area_m2 < 109e6 and "km²" in tools.last_text
    # the interactive tool starts a Leaflet.draw handler in measuring mode
    win.act_measure_line.trigger()
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.mode") == "measure", timeout=TIMEOUT_MS)
    win.act_measure_clear.trigger()
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.mode") == "browse", timeout=TIMEOUT_MS)


def test_search_flies_to_the_place(qtbot, win) -> None:
    # the index follows the scenario lazily: rebuilt when the search is used after an edit
    win.map_tools.invalidate()
    win.search_box.setFocus()
    qtbot.waitUntil(lambda: not win.map_tools._stale, timeout=TIMEOUT_MS)
    assert len(win.map_tools.index) > 100
    town = win.session.scenario.townships[5]
    place = win.map_tools.fly_to_text(town.name)
    assert place is not None and place.kind == "township"
    qtbot.waitUntil(
        lambda: abs(js(qtbot, win, "RD.map.getCenter().lng") - town.location.lon) < 1e-4,
        timeout=TIMEOUT_MS,
    )
    assert js(qtbot, win, "RD.map.getZoom()") == place.zoom
    assert win.map_tools.fly_to_text("不存在的地名") is None


def test_coordinates_in_both_systems_and_click_copies(win) -> None:
    text = win.map_tools.coordinate_text(105.8336, 28.8116)
    glon, glat = wgs84_to_gcj02(105.8336, 28.8116)
    assert "WGS-84 105.83360, 28.81160" in text and f"GCJ-02 {float(glon):.5f}" in text
    copied = win.map_tools.copy_coordinates()
    assert QGuiApplication.clipboard().text() == copied and f"{float(glat):.6f}" in copied


def test_export_the_view_to_png_and_pdf(qtbot, win, env) -> None:
    from gui.map_print import export_view

    win.map.fit_data()
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.map.getZoom()") < 12, timeout=TIMEOUT_MS)
    qtbot.wait(500)  # let the canvas repaint the county view
    done: dict = {}
    for name in ("view.png", "view.pdf"):
        export_view(win, env / name, lambda p, err, n=name: done.setdefault(n, (p, err)))
        qtbot.waitUntil(lambda n=name: n in done, timeout=TIMEOUT_MS)
        assert done[name] == (env / name, "")
    img = QImage(str(env / "view.png"))
    assert img.width() > win.map.width() and img.height() > win.map.height()
    # the map part of the sheet is a map, not a blank or single-colour area
    colours = {img.pixel(x, y) for x in range(20, win.map.width(), 7) for y in range(80, 600, 7)}
    assert len(colours) > 30
    assert (env / "view.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(env.glob(".*.tmp"))
    keep = (
        Path(os.environ.get("RELIEFDESK_TEST_ARTIFACTS", ""))
        if os.environ.get("RELIEFDESK_TEST_ARTIFACTS")
        else None
    )
    if keep:  # for a human look
        keep.mkdir(parents=True, exist_ok=True)
        img.save(str(keep / "export_view.png"))


def test_a_vector_mbtiles_base_map_is_drawn(qtbot, win, env, demo_ws) -> None:
    from tests.test_basemap import make_vector_mbtiles

    path = env / "vector.mbtiles"
    make_vector_mbtiles(path, demo_ws.scenario, demo_ws.road_edges)
    served = win.basemap.handler.served
    win.map.fit_data()
    assert win.basemap.set_choice(bm.BasemapChoice("mbtiles", str(path)))
    qtbot.waitUntil(lambda: js(qtbot, win, "RD.baseKind") == "vector", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: win.basemap.handler.served > served, timeout=TIMEOUT_MS)
    # the tiles' canvases carry painted pixels (areas and lines of the "ground" layer)
    painted = """(function () {
      var n = 0;
      RD.base.getContainer().querySelectorAll('canvas').forEach(function (c) {
        var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (var i = 3; i < d.length; i += 4 * 97) { if (d[i] > 0) { n += 1; } }
      });
      return n;
    })()"""
    qtbot.waitUntil(lambda: js(qtbot, win, painted) > 100, timeout=TIMEOUT_MS)
    assert js(qtbot, win, "typeof protomapsL") == "object"
    assert win.basemap.set_choice(bm.DEFAULT)
