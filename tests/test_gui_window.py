"""The main window, offscreen, on the bundled demo county (pytest-qt).

One window is shared by the module (QtWebEngine start-up is the slow part); tests run in file
order and each leaves the workspace as it found it, or says what it changed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from gis.catalogue import load_plan_templates, template_needs  # noqa: E402
from gis.coords import from_wgs84  # noqa: E402
from gis.model import IncidentStatus  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui import map_page  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.map_page import ROAD_CLASSES  # noqa: E402
from gui.table_models import ID_ROLE  # noqa: E402
from tests.gui_fixtures import demo_window_fixtures  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30000


env, window = demo_window_fixtures("gui")


def js(qtbot, w: MainWindow, script: str):
    """Evaluate ``script`` in the page and return its value."""
    box: dict = {}
    w.map.evaluate(script, lambda r: box.setdefault("r", r))
    qtbot.waitUntil(lambda: "r" in box, timeout=TIMEOUT_MS)
    return box["r"]


def stats(qtbot, w: MainWindow) -> dict:
    return json.loads(js(qtbot, w, "JSON.stringify(RD.stats())"))


def wait_idle(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def opened(qapp, window):
    """The window after the demo has loaded, the map drawn and the road network arrived."""
    from pytestqt.qtbot import QtBot

    bot = QtBot(qapp)
    bot.waitUntil(lambda: window.map.ready and window.session.network is not None, timeout=60000)
    wait_idle(bot, window)
    return window


def test_open_demo_draws_everything(qtbot, opened: MainWindow) -> None:
    w = opened
    s = w.session.scenario
    st = stats(qtbot, w)
    assert st["leaflet"] == "1.9.4" and st["bridge"] is True
    counts = st["counts"]
    for kind in ("shelters", "stockpiles", "teams", "incidents", "hazards", "closures"):
        assert counts[kind] == len(getattr(s, kind)), kind
    edges = w.session.road_edges
    assert sum(v for k, v in counts.items() if k.startswith("roads:")) == len(edges)
    assert s.candidate_sites  # the demo has candidate sites (选址): they are markers too
    assert st["markers"] == sum(
        len(getattr(s, k))
        for k in ("shelters", "stockpiles", "teams", "incidents", "candidate_sites")
    )
    for kind, table in w.tables.items():
        assert table.model.rowCount() == len(getattr(s, kind))
    # credited by the road source: the demo's generated roads are not OpenStreetMap's
    credits = w.attribution.text()
    assert ("OpenStreetMap" in credits) == (s.road_network.kind == "osm")
    assert "国家统计局" in credits
    if s.road_network.kind == "generated":
        assert "生成" in w.roads_note.text()
    assert "*" not in w.windowTitle()


def test_markers_piling_up_at_the_county_seat_are_spread(qtbot, opened: MainWindow) -> None:
    """At county zoom the seat's markers sit on rings, not on top of each other (issue 13)."""
    w = opened
    script = """(function () {
      function icons() { return Array.prototype.slice.call(
        document.querySelectorAll('.leaflet-marker-pane .rd-ic')); }
      function overlaps() {
        var c = icons().map(function (el) {
          var r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];
        });
        var n = 0;
        for (var i = 0; i < c.length; i++) { for (var j = i + 1; j < c.length; j++) {
          if (Math.hypot(c[i][0] - c[j][0], c[i][1] - c[j][1]) < 12) { n += 1; } } }
        return n;
      }
      RD.fitData(false);
      icons().forEach(function (el) {  // as drawn without spreading
        var w = el.parentNode;
        if (w._rdMargin) { w.style.marginLeft = w._rdMargin[0] + 'px';
                           w.style.marginTop = w._rdMargin[1] + 'px'; }
      });
      var before = overlaps();
      var moved = RD.spreadMarkers();
      return JSON.stringify({moved: moved, before: before, after: overlaps(), n: icons().length});
    })()"""
    out = json.loads(js(qtbot, w, script))
    assert out["n"] > 10 and out["moved"] > 0, out
    assert out["before"] >= 5 and out["after"] <= out["before"] // 3, out


def test_toggle_layers(qtbot, opened: MainWindow) -> None:
    w = opened
    n_shelters = len(w.session.scenario.shelters)
    before = stats(qtbot, w)["markers"]
    w.layer_panel.set_visible("shelters", False)
    qtbot.waitUntil(
        lambda: js(qtbot, w, "RD.isLayerVisible('shelters')") is False, timeout=TIMEOUT_MS
    )
    assert stats(qtbot, w)["markers"] == before - n_shelters
    w.layer_panel.set_visible("roads", False)
    assert js(
        qtbot,
        w,
        "Object.keys(RD.groups).filter(k => k.startsWith('roads:')).every(k => !RD.isLayerVisible(k))",
    )
    w.layer_panel.set_visible("roads", True)
    w.layer_panel.set_visible("shelters", True)
    qtbot.waitUntil(lambda: stats(qtbot, w)["markers"] == before, timeout=TIMEOUT_MS)
    assert js(qtbot, w, "RD.isLayerVisible('roads:trunk') || !RD.groups['roads:trunk']")


def test_layer_order(qtbot, opened: MainWindow) -> None:
    w = opened
    panel = w.layer_panel
    start = panel.order()
    assert start[0] == "incidents"
    # bring shelters to the top: their markers are stacked above the incidents'
    while panel.order()[0] != "shelters":
        assert panel.move_layer("shelters", -1)
    qtbot.waitUntil(lambda: js(qtbot, w, "RD.order[0]") == "shelters", timeout=TIMEOUT_MS)
    sh = w.session.scenario.shelters[0].id
    inc = w.session.scenario.incidents[0].id
    z = js(
        qtbot, w, f"[RD.byId['{sh}'].options.zIndexOffset, RD.byId['{inc}'].options.zIndexOffset]"
    )
    assert z[0] > z[1]
    assert panel.move_layer("boundary", 1) is False  # already at the bottom
    while panel.order() != start:
        panel.move_layer("shelters", 1)
    qtbot.waitUntil(lambda: js(qtbot, w, "RD.order[0]") == "incidents", timeout=TIMEOUT_MS)
    assert panel.items["roads"].childCount() == len(ROAD_CLASSES)


def test_row_and_marker_selection_sync(qtbot, opened: MainWindow) -> None:
    w = opened
    s = w.session.scenario
    table = w.tables["stockpiles"]
    # row -> marker
    target = s.stockpiles[1].id
    row = table.row_for_display(target)
    table.view.selectRow(row)
    assert w.session.selected == target
    qtbot.waitUntil(lambda: js(qtbot, w, f"RD.isSelected('{target}')") is True, timeout=TIMEOUT_MS)
    # marker -> row: a click fired on the marker in the page goes through the bridge
    other = s.shelters[0].id
    with qtbot.waitSignal(w.map.bridge.sig_marker_clicked, timeout=TIMEOUT_MS) as sig:
        js(qtbot, w, f"RD.fireClick('{other}')")
    assert sig.args == [other]
    assert w.session.selected == other
    assert w.tables["shelters"].selected_id() == other
    assert js(qtbot, w, f"RD.isSelected('{other}')") is True
    assert js(qtbot, w, f"RD.isSelected('{target}')") is False


def test_add_move_delete_stockpile_with_undo(qtbot, opened: MainWindow) -> None:
    w = opened
    s0 = w.session.scenario
    n0 = len(s0.stockpiles)
    town = s0.townships[0].location
    code = s0.materials[0].code
    # add: a click on the map in "add stockpile" mode opens the form
    w.begin_add("stockpiles")
    assert js(qtbot, w, "RD.mode") == "pick"
    dialogs = []
    orig = w.add_entity_at
    w.add_entity_at = lambda *a, **k: dialogs.append(orig(*a, **k)) or dialogs[-1]  # type: ignore[method-assign]
    try:
        with qtbot.waitSignal(w.map.bridge.sig_map_clicked, timeout=TIMEOUT_MS):
            js(
                qtbot,
                w,
                f"RD.map.fire('click', {{latlng: L.latLng({town.lat}, {town.lon})}}); null",
            )
    finally:
        del w.add_entity_at
    dlg = dialogs[0]
    assert js(qtbot, w, "RD.mode") == "browse"
    dlg.name.setText("")
    assert dlg.try_accept() is False
    assert "name" in dlg.error.text() and dlg.error.isVisibleTo(dlg)
    dlg.name.setText("测试储备库<b>")
    dlg.inventory.model.set_value(code, 120)
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    s1 = w.session.scenario
    assert len(s1.stockpiles) == n0 + 1
    new = s1.stockpiles[-1]
    assert new.name == "测试储备库<b>" and new.inventory == {code: 120}
    assert (new.location.lon, new.location.lat) == pytest.approx((town.lon, town.lat))
    qtbot.waitUntil(lambda: stats(qtbot, w)["counts"]["stockpiles"] == n0 + 1, timeout=TIMEOUT_MS)
    assert w.session.dirty and w.windowTitle().startswith("*")
    # the table shows the name as plain text
    table = w.tables["stockpiles"]
    idx = table.model.index(table.model.row_of(new.id), 1)
    assert idx.data() == "测试储备库<b>"
    # move: drag the marker (enable dragging, move it, fire dragend as Leaflet does)
    w.set_move_mode(True)
    assert js(qtbot, w, f"RD.byId['{new.id}'].dragging.enabled()") is True
    lon2, lat2 = town.lon + 0.02, town.lat - 0.01
    with qtbot.waitSignal(w.map.bridge.sig_marker_dragged, timeout=TIMEOUT_MS):
        js(
            qtbot,
            w,
            f"var m = RD.byId['{new.id}']; m.setLatLng([{lat2}, {lon2}]); m.fire('dragend'); null",
        )
    w.set_move_mode(False)
    moved = w.session.scenario.find(new.id)
    assert (moved.location.lon, moved.location.lat) == pytest.approx((lon2, lat2))
    # undo the move, then the add; redo both
    w.act_undo.trigger()
    assert w.session.scenario.find(new.id).location == new.location
    w.act_undo.trigger()
    assert len(w.session.scenario.stockpiles) == n0
    qtbot.waitUntil(lambda: stats(qtbot, w)["counts"]["stockpiles"] == n0, timeout=TIMEOUT_MS)
    w.act_redo.trigger()
    w.act_redo.trigger()
    assert w.session.scenario.find(new.id).location == moved.location
    qtbot.waitUntil(
        lambda: (
            js(qtbot, w, f"RD.byId['{new.id}'] ? RD.byId['{new.id}'].getLatLng().lng : null")
            == pytest.approx(lon2)
        ),
        timeout=TIMEOUT_MS,
    )
    # delete (confirmation skipped in this non-interactive window) and undo it
    assert w.delete_entity(new.id, confirm=False)
    assert all(sp.id != new.id for sp in w.session.scenario.stockpiles)
    w.act_undo.trigger()
    assert w.session.scenario.find(new.id) == moved
    # back to the start
    while w.session.undo_stack.canUndo():
        w.session.undo_stack.undo()
    assert w.session.scenario == s0


def test_incident_from_template_and_lifecycle(qtbot, opened: MainWindow) -> None:
    w = opened
    s0 = w.session.scenario
    templates = load_plan_templates()
    subtype = "山洪" if "山洪" in templates else sorted(templates)[0]
    seat = s0.townships[-1].location
    dlg = w.add_entity_at("incidents", seat.lon, seat.lat)
    dlg.subtype.setCurrentText(subtype)
    dlg.level.setCurrentIndex(dlg.level.findData(2))
    dlg.people.setValue(800)
    needs, skills, deadline = template_needs(
        templates, subtype, 2, 800, materials=s0.material_index
    )
    assert dlg.needs.values() == needs
    assert dlg.skills.values() == skills
    assert dlg.deadline.value() == pytest.approx(deadline)
    # the operator adjusts one need
    first = next(iter(needs))
    dlg.needs.model.set_value(first, needs[first] + 5)
    dlg.name.setText("测试山洪")
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    inc = w.session.scenario.incidents[-1]
    assert inc.name == "测试山洪" and inc.level == 2 and inc.subtype == subtype
    assert inc.needs[first] == needs[first] + 5
    assert inc.required_skills == skills and inc.status == IncidentStatus.REPORTED
    assert w.session.selected == inc.id
    qtbot.waitUntil(
        lambda: stats(qtbot, w)["counts"]["incidents"] == len(s0.incidents) + 1, timeout=TIMEOUT_MS
    )
    color = js(
        qtbot, w, f"RD.byId['{inc.id}'].getElement().querySelector('.rd-ic').style.background"
    )
    assert color.replace(" ", "") in ("rgb(240,124,25)", "#f07c19")
    log0 = len(w.session.event_log())
    assert w.advance_incident(inc.id)
    assert w.change_incident_status(inc.id, IncidentStatus.DISPATCHING.value)
    entries = w.session.event_log()
    assert [(e["from"], e["to"]) for e in entries[log0 - 1 :]] == [
        ("", "接报"),
        ("接报", "研判"),
        ("研判", "调度"),
    ]
    assert all(e["time"] for e in entries)
    assert w.event_log.topLevelItemCount() == len(entries)
    assert "调度" in w.event_log.topLevelItem(0).text(2)
    # undo removes the status change together with its log entry
    w.act_undo.trigger()
    assert w.session.scenario.find(inc.id).status == IncidentStatus.ASSESSING
    assert len(w.session.event_log()) == len(entries) - 1
    # typed coordinates in GCJ-02 are converted to WGS-84
    dlg2 = w.new_incident_typed()
    gx, gy = from_wgs84(seat.lon, seat.lat, "GCJ02")
    dlg2.system.setCurrentIndex(dlg2.system.findData("GCJ02"))
    dlg2.x.setValue(gx)
    dlg2.y.setValue(gy)
    lon, lat = dlg2.location_wgs84()
    assert (lon, lat) == pytest.approx((seat.lon, seat.lat), abs=2e-6)
    dlg2.reject()
    while w.session.undo_stack.canUndo():
        w.session.undo_stack.undo()
    assert w.session.scenario == s0


def test_incident_outside_the_county_is_warned_in_the_form(opened: MainWindow) -> None:
    """A map click (or typed coordinates) 20 km east of the county: the form warns; a second OK
    at the same place accepts it (warned, not forbidden)."""
    w = opened
    s0 = w.session.scenario
    minx, miny, maxx, maxy = s0.boundary.bounds
    dlg = w.add_entity_at("incidents", maxx + 0.2, (miny + maxy) / 2)
    text = dlg.location_warning.text()
    assert not dlg.location_warning.isHidden()
    assert "事发点在县界外" in text and "超出吸附距离" in text
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    ok.click()
    assert w.session.scenario == s0 and dlg.isVisible()  # not yet: asked to confirm
    assert "再次点击" in dlg.location_warning.text()
    ok.click()
    assert len(w.session.scenario.incidents) == len(s0.incidents) + 1
    w.session.undo_stack.undo()
    assert w.session.scenario == s0
    # inside the county by a road: no warning, one OK
    seat = s0.townships[-1].location
    dlg = w.add_entity_at("incidents", seat.lon, seat.lat)
    assert dlg.location_warning.isHidden() and not dlg.location_warnings()
    dlg.x.setValue(maxx + 0.2)  # typed: the warning follows the coordinates
    assert "县界外" in dlg.location_warning.text()
    dlg.reject()


def test_draw_closure_marks_roads(qtbot, opened: MainWindow) -> None:
    w = opened
    s0 = w.session.scenario
    net = w.session.network
    assert net is not None
    assert js(qtbot, w, "RD.startDraw('line')") is True
    js(qtbot, w, "RD.cancelDraw(); null")
    # a line across the middle of a real road edge
    geom = net.edge_geometry[len(net.edge_geometry) // 2]
    mid = geom.interpolate(0.5, normalized=True)
    a = (mid.x - 0.002, mid.y - 0.002)
    b = (mid.x + 0.002, mid.y + 0.002)
    before_fc = len(w.closed_roads["features"])
    # the Leaflet.draw "created" event, as the draw toolbar fires it
    with qtbot.waitSignal(w.map.bridge.sig_closure_drawn, timeout=TIMEOUT_MS) as sig:
        js(
            qtbot,
            w,
            f"RD.map.fire(L.Draw.Event.CREATED, {{layer: L.polyline([[{a[1]}, {a[0]}], [{b[1]}, {b[0]}]]), layerType: 'polyline'}}); null",
        )
    assert json.loads(sig.args[0])["type"] == "LineString"
    qtbot.waitUntil(
        lambda: len(w.session.scenario.closures) == len(s0.closures) + 1, timeout=TIMEOUT_MS
    )
    closure = w.session.scenario.find(w.last_closure_id)
    assert closure.geometry.geom_type == "LineString" and closure.closes
    wait_idle(qtbot, w)
    rows = net.closed_edges([closure])[closure.id]
    assert len(rows) >= 1
    qtbot.waitUntil(lambda: len(w.closed_roads["features"]) > before_fc, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: stats(qtbot, w)["counts"].get("closed_roads") == len(w.closed_roads["features"]),
        timeout=TIMEOUT_MS,
    )
    assert w.tables["closures"].model.row_of(closure.id) >= 0
    # remove it again
    assert w.delete_entity(closure.id, confirm=False)
    wait_idle(qtbot, w)
    qtbot.waitUntil(lambda: len(w.closed_roads["features"]) == before_fc, timeout=TIMEOUT_MS)
    w.session.undo_stack.undo()
    w.session.undo_stack.undo()
    assert w.session.scenario == s0


def test_save_reopen_compare(qtbot, opened: MainWindow, env: Path) -> None:
    w = opened
    s = w.session.scenario
    sp = s.stockpiles[0]
    w.session.upsert(replace(sp, name=sp.name + "（已核）", contact="<i>0830-1234567</i>"), "edit")
    inc = s.incidents[0]
    w.session.set_incident_status(inc.id, IncidentStatus.ASSESSING)
    assert w.session.dirty
    # autosave → recovery copy equal to the current state
    rec = w.session.autosave()
    assert rec is not None and rec.exists()
    pending = w.session.recovery.pending()
    assert [p[0] for p in pending] == [rec]
    assert read_workspace(rec, include_roads=False).scenario == w.session.scenario
    # save as (background job), then reopen and compare
    out = env / "saved.gpkg"
    w._save_to(out)
    qtbot.waitUntil(lambda: not w.session.dirty, timeout=TIMEOUT_MS)
    assert w.session.path == out and not rec.exists()
    back = read_workspace(out, include_roads=True)
    assert back.scenario == w.session.scenario
    assert back.documents.get("event_log") == w.session.documents.get("event_log")
    assert len(back.road_edges) == len(w.session.road_edges)
    expected = w.session.scenario
    with qtbot.waitSignal(w.sig_loaded, timeout=60000):
        w.open_workspace(out)
    assert w.session.scenario == expected and w.session.path == out
    qtbot.waitUntil(lambda: w.map.ready, timeout=60000)
    assert stats(qtbot, w)["counts"]["stockpiles"] == len(expected.stockpiles)
    row = w.tables["stockpiles"].model.row_of(sp.id)
    assert w.tables["stockpiles"].model.index(row, 6).data() == "<i>0830-1234567</i>"
    assert w.event_log.topLevelItemCount() == len(w.session.event_log()) >= 1
    # reopening the unchanged file uses its cached page, and still loads the road network
    cached = map_page.cached_page_path(
        out, tile_url="", hidden_layers=w.layer_panel.hidden_layers()
    )
    assert cached.exists()
    with qtbot.waitSignal(w.sig_loaded, timeout=60000):
        w.open_workspace(out)
    assert w.session.scenario == expected
    assert w.session.roads_source == out  # road frames are read after the first paint
    qtbot.waitUntil(lambda: w.map.ready and w.session.network is not None, timeout=60000)
    assert w.session.roads_source is None and len(w.session.road_edges) == len(back.road_edges)
    assert stats(qtbot, w)["counts"]["stockpiles"] == len(expected.stockpiles)


def test_hostile_name_popup_is_text(qtbot, opened: MainWindow) -> None:
    w = opened
    sp = w.session.scenario.stockpiles[0]
    hostile = '<img src=x onerror="window.PWNED=1"><script>window.PWNED=2</script>'
    w.session.upsert(replace(sp, name=hostile), "hostile")
    qtbot.waitUntil(
        lambda: (
            js(qtbot, w, f"RD.byId['{sp.id}'] && RD.byId['{sp.id}']._rdPoint.popup.length > 0")
            is True
        ),
        timeout=TIMEOUT_MS,
    )
    js(qtbot, w, f"RD.byId['{sp.id}'].openPopup(); null")
    qtbot.waitUntil(
        lambda: js(qtbot, w, "!!document.querySelector('.leaflet-popup-content')") is True,
        timeout=TIMEOUT_MS,
    )
    title = js(qtbot, w, "document.querySelector('.leaflet-popup-content .rd-title').textContent")
    assert title == hostile
    assert (
        js(
            qtbot,
            w,
            "document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script').length",
        )
        == 0
    )
    assert js(qtbot, w, "typeof window.PWNED") == "undefined"
    js(qtbot, w, "RD.map.closePopup(); null")
    model = w.tables["stockpiles"].model
    assert model.index(model.row_of(sp.id), 1).data(Qt.ItemDataRole.DisplayRole) == hostile
    assert model.index(model.row_of(sp.id), 0).data(ID_ROLE) == sp.id
    # tooltips are escaped too (Qt would render a tooltip that looks like HTML)
    tip = model.index(model.row_of(sp.id), 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in tip and "&lt;img src=x" in tip
    w.session.undo_stack.undo()


def test_search_and_sort_tables(qtbot, opened: MainWindow) -> None:
    w = opened
    table = w.tables["shelters"]
    shelters = w.session.scenario.shelters
    table.view.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # capacity
    caps = [
        table.proxy.index(r, 4).data(Qt.ItemDataRole.UserRole + 2)
        for r in range(table.proxy.rowCount())
    ]
    assert caps == sorted((s.capacity for s in shelters), reverse=True)
    name = shelters[0].name
    table.search.setText(name)
    assert 1 <= table.proxy.rowCount() < len(shelters) or len(shelters) == 1
    assert all(name in table.proxy.index(r, 1).data() for r in range(table.proxy.rowCount()))
    table.search.clear()
    assert table.proxy.rowCount() == len(shelters)


def test_recovery_offer_after_crash(qtbot, opened: MainWindow, monkeypatch) -> None:
    """Unsaved work autosaved by a session that died is offered back and reopened, still unsaved."""
    from PyQt6.QtWidgets import QMessageBox

    w = opened
    src = w.session.path
    sp = w.session.scenario.stockpiles[0]
    w.session.upsert(replace(sp, name=sp.name + "（崩溃前）"), "edit before crash")
    expected = w.session.scenario
    rec = w.session.autosave()
    assert rec is not None
    w.session.undo_stack.undo()  # "crash": the change never reached the workspace file
    w.session.undo_stack.setClean()
    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes),
    )
    with qtbot.waitSignal(w.sig_loaded, timeout=60000):
        assert w.offer_recovery() is True
    assert asked and str(src) in asked[0]
    assert w.session.scenario == expected
    assert w.session.path == src and w.session.dirty and w.windowTitle().startswith("*")
    qtbot.waitUntil(lambda: w.map.ready, timeout=60000)
    # saving the recovered work writes the original file and removes the recovery copy
    w.session.save()
    assert not rec.exists() and read_workspace(src, include_roads=False).scenario == expected
    assert w.session.recovery.pending() == []


def test_settings_remember_layout_and_workspace(opened: MainWindow) -> None:
    w = opened
    w.save_settings()
    st = w.settings
    assert st.value("workspace/last") == str(w.session.path)
    assert st.value("window/geometry") is not None and st.value("window/state") is not None
    from gui.app_main import choose_workspace

    assert choose_workspace(None, st, use_last=True) == w.session.path


def test_status_bar_follows_the_mouse_and_zoom(qtbot, opened: MainWindow) -> None:
    w = opened
    town = w.session.scenario.townships[0].location
    js(qtbot, w, f"RD.map.fire('mousemove', {{latlng: L.latLng({town.lat}, {town.lon})}}); null")
    qtbot.waitUntil(lambda: f"{town.lon:.5f}" in w.coord_label.text(), timeout=TIMEOUT_MS)
    assert f"{town.lat:.5f}" in w.coord_label.text()
    js(qtbot, w, f"RD.panTo({town.lon}, {town.lat}, 14); null")
    qtbot.waitUntil(lambda: w.map.zoom == 14, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "1:" in w.scale_label.text(), timeout=TIMEOUT_MS)
    n = int(w.scale_label.text().split("1:")[1].replace(",", ""))
    # Web-Mercator at zoom 14 and ~28.8°N, 96 dpi: about 1:31,000
    assert 25_000 < n < 40_000
    w.map.fit_data()


def test_map_view_small_and_large_pages(qtbot, opened: MainWindow) -> None:
    """A page under the setHtml limit goes inline; a large one through a file that is removed after."""
    from gui.map_view import MapView

    s = opened.session.scenario
    view = MapView()
    view.resize(800, 600)
    view.show()
    try:
        small = map_page.build_map_html(s, None)
        view.sethtml_limit = len(small.encode()) + 1
        with qtbot.waitSignal(view.sig_ready, timeout=60000):
            view.show_page(small)
        assert view.page_file is None
        large = map_page.build_map_html(s, opened.session.road_edges)
        assert len(large.encode()) > view.sethtml_limit
        with qtbot.waitSignal(view.sig_ready, timeout=60000):
            view.show_page(large)
        page_file = view.page_file
        assert page_file is not None and page_file.exists()
        box: dict = {}
        view.evaluate("JSON.stringify(RD.stats())", lambda r: box.setdefault("r", r))
        qtbot.waitUntil(lambda: "r" in box, timeout=TIMEOUT_MS)
        counts = json.loads(box["r"])["counts"]
        assert counts["incidents"] == len(s.incidents)
        assert sum(v for k, v in counts.items() if k.startswith("roads:")) == len(
            opened.session.road_edges
        )
    finally:
        view.dispose()
        view.deleteLater()
    assert not page_file.exists()


def test_local_tile_layer_setting(qtbot, opened: MainWindow, tmp_path: Path) -> None:
    w = opened
    has_tiles = (
        "Object.values(RD.map._layers).some(function (l) { return l instanceof L.TileLayer; })"
    )
    assert js(qtbot, w, has_tiles) is False
    url = (tmp_path / "tiles").as_uri() + "/{z}/{x}/{y}.png"
    w.set_tile_url(url)
    assert w.settings.value("map/tile_url") == url
    qtbot.waitUntil(lambda: w.map.ready and js(qtbot, w, has_tiles) is True, timeout=60000)
    counts = stats(qtbot, w)["counts"]
    assert counts["shelters"] == len(w.session.scenario.shelters)
    w.set_tile_url("")
    qtbot.waitUntil(lambda: w.map.ready and js(qtbot, w, has_tiles) is False, timeout=60000)


def test_second_open_wins(qtbot, opened: MainWindow, env: Path, demo_workspace_path: Path) -> None:
    """Opening B while A is still being read shows B (A's late result is dropped)."""
    w = opened
    a = env / "a.gpkg"
    shutil.copy(demo_workspace_path, a)
    b = env / "b.gpkg"
    sp = w.session.scenario.stockpiles[0]
    w.session.upsert(replace(sp, name="B 的储备库"), "rename")
    w.session.save(b)
    loaded: list[str] = []
    w.sig_loaded.connect(loaded.append)
    try:
        w.open_workspace(a)
        w.open_workspace(b)
        qtbot.waitUntil(lambda: str(b) in loaded, timeout=60000)
        wait_idle(qtbot, w)
        qtbot.wait(200)
        assert w.session.path == b and str(a) not in loaded
        assert w.session.scenario.find(sp.id).name == "B 的储备库"
        qtbot.waitUntil(lambda: w.map.ready and w.session.network is not None, timeout=60000)
        name = js(qtbot, w, f"RD.byId['{sp.id}']._rdPoint.tip")
        assert name.startswith("B 的储备库")
    finally:
        w.sig_loaded.disconnect(loaded.append)


def test_new_workspace_and_real_osm_roads(
    qtbot, opened: MainWindow, env: Path, andorra_pbf: Path
) -> None:
    """File → New, then Import OSM roads (real Andorra extract) in the background; save; reopen."""
    w = opened
    w.session.undo_stack.setClean()
    w.new_workspace()
    s = w.session.scenario
    assert w.session.path is None and not w.session.has_roads
    assert (
        len(s.materials) >= 30 and sum(len(getattr(s, k)) for k in ("stockpiles", "incidents")) == 0
    )
    qtbot.waitUntil(
        lambda: w.map.ready and stats(qtbot, w)["counts"].get("incidents") == 0, timeout=60000
    )
    w.import_osm(andorra_pbf)
    qtbot.waitUntil(lambda: w.session.network is not None, timeout=120000)
    edges = w.session.road_edges
    assert len(edges) > 1000 and w.session.scenario.road_network.kind == "osm"
    assert w.session.dirty and not w.session.undo_stack.canUndo()
    qtbot.waitUntil(
        lambda: (
            w.map.ready
            and sum(v for k, v in stats(qtbot, w)["counts"].items() if k.startswith("roads:"))
            == len(edges)
        ),
        timeout=60000,
    )
    out = env / "andorra.gpkg"
    w.session.save(out)
    back = read_workspace(out, include_roads=True)
    assert len(back.road_edges) == len(edges) and back.scenario.road_network.kind == "osm"
    assert back.scenario.road_network.note.startswith("© OpenStreetMap")


def test_renderer_crash_is_reported_and_the_map_redrawn(qtbot, opened: MainWindow) -> None:
    from PyQt6.QtCore import QUrl

    w = opened
    errors = w.messages.count_by_level.get("error", 0)
    with qtbot.waitSignal(w.map.sig_crashed, timeout=60000):
        w.map.load(QUrl("chrome://crash"))
    assert w.messages.count_by_level.get("error", 0) == errors + 1
    qtbot.waitUntil(lambda: w.map.ready, timeout=60000)
    counts = stats(qtbot, w)["counts"]
    assert counts["shelters"] == len(w.session.scenario.shelters)
