"""The desk's polish items of issue 13 §6 in the main window (offscreen, pytest-qt).

One window for the module; each test leaves the workspace as it found it (undo).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PyQt6.QtCore import Qt

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from gis.model import INCIDENT_STATUS_ORDER  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from tests.gui_fixtures import close_window, demo_window_fixtures  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 30000


# the default size: the layout is checked as an operator first sees it
env, window = demo_window_fixtures(
    "gui_polish",
    size=None,
    ready=(lambda w: not w.runner.busy and bool(w.session.scenario.incidents),),
)


def test_undo_button_keeps_its_width_and_the_toolbar_does_not_shift(qtbot, window) -> None:
    w = window
    after = w.toolbar.widgetForAction(w.add_actions["incidents"])  # a button right of undo
    x0, width0 = after.x(), w.undo_button.width()
    sp = w.session.scenario.stockpiles[0]
    long_name = "合江县应急管理局直属应急物资储备中心（第二仓库）" * 2
    w.session.upsert(replace(sp, name=long_name), f"编辑 {long_name}")
    qtbot.waitUntil(lambda: w.act_undo.isEnabled())
    qtbot.wait(50)  # the toolbar lays out again on the action's change
    assert long_name in w.act_undo.text()  # the menu action names the command …
    assert (
        w.undo_button.text() == "撤销" and long_name in w.undo_button.toolTip()
    )  # … not the button
    assert w.undo_button.isEnabled()
    assert (after.x(), w.undo_button.width()) == (x0, width0)
    w.undo_button.click()
    assert w.session.scenario.stockpiles[0].name == sp.name
    assert w.redo_button.isEnabled() and not w.undo_button.isEnabled()
    assert after.x() == x0


def test_status_combo_follows_next_stage_and_undo(qtbot, window) -> None:
    w = window
    inc = next(i for i in w.session.scenario.incidents if i.status != INCIDENT_STATUS_ORDER[-1])
    w.session.select(inc.id, "map")
    assert w.tables["incidents"].selected_id() == inc.id
    assert w.status_combo.currentData() == inc.status.value
    nxt = INCIDENT_STATUS_ORDER[INCIDENT_STATUS_ORDER.index(inc.status) + 1]
    w.next_status_button.click()
    assert w.session.scenario.find(inc.id).status == nxt
    assert w.status_combo.currentData() == nxt.value
    w.act_undo.trigger()
    assert w.session.scenario.find(inc.id).status == inc.status
    assert w.status_combo.currentData() == inc.status.value


def test_new_entity_at_a_click_gets_the_township_of_the_point(qtbot, window) -> None:
    from gis.placement import township_at

    w = window
    s = w.session.scenario
    for t in s.townships[:4]:
        lon, lat = t.location.lon + 0.004, t.location.lat - 0.003  # near the seat
        dlg = w.add_entity_at("stockpiles", lon, lat)
        try:
            assert dlg.township.currentData() == t.code
            assert dlg.build().township_code == t.code
        finally:
            dlg.reject()
        dlg = w.add_entity_at("incidents", lon, lat)
        try:
            assert dlg.build().township_code == t.code
        finally:
            dlg.reject()
    # villages: the stored township of every demo village is the one of its place
    assert s.demand_points
    for d in s.demand_points:
        assert township_at(s, d.location.lon, d.location.lat) == d.township_code, d.name
    assert township_at(replace(s, townships=()), 105.8, 28.8) == ""


def _page_text(qtbot, w: MainWindow) -> str:
    box: dict = {}
    w.map.evaluate("document.body ? document.body.innerText : ''", lambda r: box.setdefault("r", r))
    qtbot.waitUntil(lambda: "r" in box, timeout=TIMEOUT_MS)
    return str(box["r"] or "")


def _open_and_fail(qtbot, w: MainWindow, path) -> tuple:
    failed: list = []
    w.workspace.sig_open_failed.connect(lambda *a: failed.append(a))
    w.open_workspace(path)
    qtbot.waitUntil(lambda: bool(failed), timeout=TIMEOUT_MS)
    return failed[0]


def test_bad_gpkg_with_nothing_open_shows_an_empty_state(qtbot, env, tmp_path) -> None:
    bad = tmp_path / "坏文件.gpkg"
    bad.write_bytes(b"this is not a GeoPackage\n" * 200)
    w = MainWindow(interactive=False)
    w.show()
    try:
        path, message, _details = _open_and_fail(qtbot, w, bad)
        assert path == bad and message
        qtbot.waitUntil(lambda: "未打开工作区" in _page_text(qtbot, w), timeout=TIMEOUT_MS)
        text = _page_text(qtbot, w)
        assert str(bad) in text and "打开演示县" in text  # what failed, and what to do
        assert w.messages.count_by_level.get("error") == 1  # and the error is reported
        assert "无法打开工作区" in w.messages.topLevelItem(0).text(2)
    finally:
        close_window(w)


def test_bad_gpkg_leaves_the_open_workspace_on_the_map(qtbot, window, env) -> None:
    """A file whose cached page is found (same path, size and mtime) but which no longer reads:
    the map goes back to the open workspace's page, the session keeps it."""
    import os

    from gui.map_page import cached_page_path

    w = window
    ws = w.session.path
    other = env / "other.gpkg"  # a small workspace: quick to open and to draw
    from gis.workspace import write_workspace

    small = replace(
        w.session.scenario,
        shelters=(),
        teams=(),
        incidents=(),
        hazards=(),
        closures=(),
        demand_points=(),
    )
    write_workspace(other, small)
    loaded: list = []
    w.sig_loaded.connect(loaded.append)
    w.open_workspace(other)
    qtbot.waitUntil(lambda: str(other) in loaded, timeout=60000)  # its page is cached now
    w.open_workspace(ws)
    qtbot.waitUntil(lambda: str(ws) in loaded, timeout=60000)
    page = cached_page_path(
        other, tile_url=w._page_options()[0], hidden_layers=w._page_options()[1]
    )
    assert page.exists()
    st = other.stat()
    with open(other, "r+b") as f:  # the SQLite header gone, the size kept
        f.write(b"\0" * 100)
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (
        cached_page_path(other, tile_url=w._page_options()[0], hidden_layers=w._page_options()[1])
        == page
    )
    shown: list = []
    w.workspace.sig_show_page.connect(shown.append)
    _open_and_fail(qtbot, w, other)
    assert shown[0] == page  # the failed file's cached page was shown at once …
    qtbot.waitUntil(lambda: len(shown) >= 2, timeout=60000)
    assert shown[-1] != page  # … and replaced by the open workspace's page
    assert w.session.path == ws
    qtbot.waitUntil(lambda: w.map.ready, timeout=60000)
    assert "未打开工作区" not in _page_text(qtbot, w)


def test_cancel_during_osm_import_stops_it_and_leaves_the_workspace(
    qtbot, window, andorra_pbf
) -> None:
    w = window
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=60000)
    s = w.session
    before = (s.scenario, s.road_edges, s.scenario.road_network, s.undo_stack.count(), s.dirty)
    job = w.import_osm(andorra_pbf)
    w.job_widget.cancel_button.click()
    # the job's own record (a signal connected after start can miss a quick end: Job says
    # "connect before start")
    qtbot.waitUntil(lambda: job.done and not w.runner.busy, timeout=120000)
    assert job.error is None and job.cancelled and job.result is None  # stopped: no network
    after = (s.scenario, s.road_edges, s.scenario.road_network, s.undo_stack.count(), s.dirty)
    assert after == before
    assert "已取消导入 OSM 道路" in w.messages.topLevelItem(0).text(2)


def test_dispatch_dock_shows_its_tabs_and_time_columns_at_the_default_size(
    qtbot, window, demo_plan
) -> None:
    """At the window's default size the 调度方案 dock's tab bar does not scroll and the ETA,
    distance and duration columns are not cut off."""
    w = window
    p = w.dispatch_panel
    assert (w.width(), w.height()) == (1400, 900)  # MainWindow's default, no saved geometry
    p.show()
    p.raise_()
    p.set_plan(demo_plan)
    qtbot.waitUntil(lambda: p.plan is demo_plan, timeout=TIMEOUT_MS)
    try:
        _check_columns_in_sight(
            qtbot,
            p,
            (
                (
                    p.alloc_table,
                    p.alloc_table,
                    ["事发点/场所", "物资", "数量", "出发储备库", "预计到达"],
                ),
                (p.team_table, p.team_table, ["队伍", "事发点", "技能", "人数", "预计到达"]),
                (p.route_table, p.route_table, ["车辆", "趟数", "最后送达", "里程", "用时"]),
            ),
        )
    finally:
        p.set_plan(None)


def _check_columns_in_sight(qtbot, p, checks) -> None:
    bar = p.tabs.tabBar()
    for page, table, headers in checks:
        p.tabs.setCurrentWidget(page)
        qtbot.wait(50)
        for i in range(bar.count()):  # every tab in sight: no scrolling tab bar
            assert bar.tabRect(i).right() <= bar.width(), bar.tabText(i)
        assert table.rowCount() > 0
        names = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
        for h in headers:
            c = names.index(h)
            right = table.columnViewportPosition(c) + table.columnWidth(c)
            assert right <= table.viewport().width(), (h, right, table.viewport().width())
            assert table.columnWidth(c) >= table.horizontalHeader().sectionSizeHint(c) - 1, h


def test_overview_incident_figures_are_table_columns(qtbot, window, demo_plan) -> None:
    """概况: the per-incident figures are cells of a table (aligned whatever the font), in
    sight at the default size; the text keeps the rest."""
    from dispatch.summary import INCIDENT_COLUMNS

    p = window.dispatch_panel
    p.show()
    p.raise_()
    p.set_plan(demo_plan)
    qtbot.waitUntil(lambda: p.plan is demo_plan, timeout=TIMEOUT_MS)
    try:
        headers = [h for h, _w, _r in INCIDENT_COLUMNS]
        _check_columns_in_sight(qtbot, p, ((p.overview_page, p.overview_table, headers),))
        t = p.overview_table
        assert t.rowCount() == len(demo_plan.incidents)
        for r, o in enumerate(demo_plan.incidents):
            assert t.item(r, 0).text() == o.name
            assert t.item(r, 3).text() == f"{100 * o.served_fraction:.0f}%"
            assert t.item(r, 3).textAlignment() & Qt.AlignmentFlag.AlignRight
        text = p.overview.toPlainText()
        assert "最长迟到" not in text and text.startswith(f"调度方案 {demo_plan.number}")
    finally:
        p.set_plan(None)
