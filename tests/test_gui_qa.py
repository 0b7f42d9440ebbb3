"""Regression tests for bugs found by driving the real app as an operator would (QA pass)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from gui.table_models import parse_quantity  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402

pytestmark = pytest.mark.gui


def test_parse_quantity_accepts_what_the_table_shows_and_refuses_the_rest() -> None:
    assert parse_quantity("1,000") == 1000
    assert parse_quantity(" 12 ") == 12
    assert parse_quantity(0) == 0
    assert parse_quantity(2.5) == 2.5
    for bad in ("abc", "", "-5", -1, "nan", "inf", "1e400", None, True):
        assert parse_quantity(bad) is None, bad


def test_inventory_cell_with_text_or_negative_shows_a_message(qapp, demo_scenario) -> None:
    """Typing text or a negative number in an inventory cell used to revert silently."""
    from gui.editors import StockpileDialog

    s = demo_scenario
    sp = s.stockpiles[0]
    dlg = StockpileDialog(s, sp)
    dlg.show()
    editor = dlg.inventory
    model = editor.model
    code = model.rows[0][0]
    before = model.rows[0][1]
    label = model.labels[code]
    idx = model.index(0, 1)
    for bad in ("abc", "-5", "nan"):
        assert model.setData(idx, bad, Qt.ItemDataRole.EditRole) is False
        assert model.rows[0][1] == before  # the cell keeps its value
        assert editor.error.isVisibleTo(dlg)
        assert label in editor.error.text() and bad in editor.error.text()
    # a value as the table displays it (thousands separator) is taken, and clears the message
    assert model.setData(idx, "1,000", Qt.ItemDataRole.EditRole) is True
    assert not editor.error.isVisibleTo(dlg)
    assert dlg.try_accept() is True
    assert dlg.entity.inventory[code] == 1000
    dlg.close()


def test_every_window_shortcut_fires_one_action(qapp, app_dirs) -> None:
    """Ctrl+N was both "new workspace" and "new incident": Qt fired neither (ambiguous)."""
    from PyQt6.QtGui import QAction

    from gui.main_window import MainWindow

    w = MainWindow(interactive=False)
    try:
        owners: dict[str, list[str]] = defaultdict(list)
        for act in w.findChildren(QAction):
            if act.shortcutContext() not in (
                Qt.ShortcutContext.WindowShortcut,
                Qt.ShortcutContext.ApplicationShortcut,
            ):
                continue
            for seq in act.shortcuts():
                if not seq.isEmpty():
                    owners[seq.toString()].append(act.text())
        clashes = {k: v for k, v in owners.items() if len(v) > 1}
        assert not clashes, clashes
        assert "Ctrl+N" in owners and "F5" in owners  # README's shortcuts are there
        assert "事件" in owners["Ctrl+N"][0]  # Ctrl+N = new incident at a map click
    finally:
        close_window(w)


def test_stored_plan_routes_are_drawn_when_the_workspace_opens(
    qtbot, qapp, tmp_path: Path, monkeypatch, demo_copy: Path, app_dirs
) -> None:
    """Reopening (or recovering) a workspace with a plan showed the plan but no routes on the map:
    the routes were pushed to the old page, which the new page then replaced."""
    from gui.main_window import MainWindow

    ws = demo_copy
    w = MainWindow(interactive=False)
    panel = w.dispatch_panel

    def routes_on_map() -> int | None:
        box: dict = {}
        w.map.evaluate("window.RD ? RD.counts.routes : null", lambda r: box.setdefault("n", r))
        qtbot.waitUntil(lambda: "n" in box, timeout=30000)
        return box["n"]

    try:
        w.resize(1200, 800)
        w.show()
        w.open_workspace(ws)
        qtbot.waitUntil(
            lambda: w.map.ready and w.session.network is not None and not w.runner.busy,
            timeout=60000,
        )
        panel.seconds.setValue(1)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=180000):
            panel.run_dispatch()
        n = len(panel.routes_payload["features"])
        assert n > 0 and routes_on_map() == n
        # approving with a blank name: told in a dialog (it used to go only to the messages tab)
        from gui.docks import dispatch_panel as dp

        warned: list = []
        panel.ask_step = lambda plan, target: dp.StepAnswer("   ")
        monkeypatch.setattr(dp.QMessageBox, "warning", lambda *a, **k: warned.append(a))
        assert panel.approve() is None
        assert warned and "批准人" in warned[0][2]
        assert panel.plan.status.value == "草稿"
        panel.ask_step = lambda plan, target: dp.StepAnswer(" 张三 ")
        approved = panel.approve()
        assert approved is not None and approved.approvals[-1].who == "张三"
        # "Open PDF" belongs to the plan that was exported, not to the next run's plan
        opened: list = []
        panel.open_url = lambda url: opened.append(url.toLocalFile()) or True
        with qtbot.waitSignal(panel.sig_exported, timeout=60000):
            panel.export(tmp_path / "out", open_pdf=False)
        assert panel.open_pdf_button.isEnabled() and panel.open_pdf()
        assert opened[-1].endswith("orders.pdf")
        first_no = panel.plan.number
        with qtbot.waitSignal(panel.sig_run_finished, timeout=180000):
            panel.run_dispatch()
        assert panel.plan.number != first_no
        assert not panel.open_pdf_button.isEnabled() and panel.open_pdf() is False
        assert len(opened) == 1
        n = len(panel.routes_payload["features"])
        out = tmp_path / "with_plan.gpkg"
        w._save_to(out)
        qtbot.waitUntil(lambda: not w.session.dirty, timeout=60000)
        with qtbot.waitSignal(w.sig_loaded, timeout=60000):
            w.open_workspace(out)
        assert panel.plan is not None and len(panel.routes_payload["features"]) == n
        qtbot.waitUntil(lambda: w.map.ready, timeout=60000)
        qtbot.waitUntil(lambda: routes_on_map() == n, timeout=30000)
    finally:
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=60000)
        close_window(w)


def test_discarding_changes_on_close_drops_the_recovery_copy(
    qtbot, qapp, monkeypatch, demo_copy: Path, app_dirs
) -> None:
    """Recover, then close with "Discard": the same recovery was offered again at next start."""
    from dataclasses import replace

    from PyQt6.QtWidgets import QMessageBox

    from gui import main_window
    from gui.main_window import MainWindow

    ws = demo_copy
    w = MainWindow(interactive=False)
    try:
        with qtbot.waitSignal(w.sig_loaded, timeout=60000):
            w.open_workspace(ws)
        sp = w.session.scenario.stockpiles[0]
        w.session.upsert(replace(sp, name=sp.name + "（改）"), "edit")
        w.autosave()
        qtbot.waitUntil(lambda: bool(w.session.recovery.pending()), timeout=30000)
        [(rec, source, _t)] = w.session.recovery.pending()
        assert source == str(ws)
        # the recovery offer shows a readable time, not an ISO string with microseconds
        keep = {p: p.read_bytes() for p in (rec, rec.with_suffix(".json"))}
        offered: list = []
        monkeypatch.setattr(
            main_window.QMessageBox,
            "question",
            lambda *a, **k: offered.append(a[2]) or QMessageBox.StandardButton.Discard,
        )
        assert w.offer_recovery() is False
        assert re.search(r"（\d{4}-\d\d-\d\d \d\d:\d\d:\d\d，", offered[0]), offered[0]
        assert "T" not in offered[0].split("（")[1][:20]
        for p, data in keep.items():
            p.write_bytes(data)
        # a shelter with a longer new id (SH-0001 after SH-001): the id column widens to show it
        table = w.tables["shelters"]
        w.session.upsert(replace(w.session.scenario.shelters[0], id="SH-000001"), "add")
        assert table.view.columnWidth(0) >= table.view.sizeHintForColumn(0)
        # the operator answers "Discard" to the unsaved-changes question
        asked: list = []
        monkeypatch.setattr(
            main_window.QMessageBox,
            "question",
            lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Discard,
        )
        w.interactive = True
        assert w.close()
        assert asked and not rec.exists()
        assert w.session.recovery.pending() == []
    finally:
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=60000)
        w.interactive = False
        close_window(w)


def test_closing_the_single_bridge_cuts_off_the_north_bank(
    qtbot, qapp, demo_copy: Path, app_dirs
) -> None:
    """The brief's scenario, as an operator does it: an incident on the north bank of the 长江
    from a template, a closure polygon drawn over 合江长江大桥 (the only link), then dispatch.
    The run finishes; the north-bank incident is served only from the north bank, and what the
    south bank cannot bring is listed as unreachable (不可达) with a sentence."""
    from dispatch.results import Reason
    from gis.workspace import read_workspace as read_ws
    from gui.main_window import MainWindow

    ws = demo_copy
    edges = read_ws(ws, include_roads=True).road_edges
    bridge = edges[edges["name"].astype(str).str.contains("合江长江大桥")]
    assert len(bridge) >= 1
    x0, y0, x1, y1 = bridge.total_bounds
    w = MainWindow(interactive=False)
    panel = w.dispatch_panel
    try:
        w.resize(1200, 800)
        w.show()
        w.open_workspace(ws)
        qtbot.waitUntil(
            lambda: w.map.ready and w.session.network is not None and not w.runner.busy,
            timeout=60000,
        )
        s = w.session.scenario
        north = set(s.metadata["single_bridge_townships"].split(","))
        seat = next(t for t in s.townships if t.code in north).location
        dlg = w.add_entity_at("incidents", seat.lon, seat.lat)
        dlg.name.setText("北岸山洪")
        dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
        inc = w.session.scenario.incidents[-1]
        assert inc.name == "北岸山洪" and inc.needs
        ring = [[x0 - 3e-4, y0 - 3e-4], [x1 + 3e-4, y0 - 3e-4], [x1 + 3e-4, y1 + 3e-4]]
        ring += [[x0 - 3e-4, y1 + 3e-4], ring[0]]
        latlngs = ", ".join(f"[{lat}, {lon}]" for lon, lat in ring[:-1])
        with qtbot.waitSignal(w.map.bridge.sig_closure_drawn, timeout=30000):
            w.map.run_js(
                f"RD.map.fire(L.Draw.Event.CREATED, {{layer: L.polygon([{latlngs}]),"
                " layerType: 'polygon'}); null"
            )
        qtbot.waitUntil(lambda: len(w.session.scenario.closures) == 1, timeout=30000)
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=60000)
        assert len(w.closed_roads["features"]) >= len(bridge)
        panel.seconds.setValue(2)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=180000):
            panel.run_dispatch()
        plan = panel.plan
        assert plan is not None
        south_depots = {sp.id for sp in s.stockpiles if sp.township_code not in north}
        north_shelters = {sh.id for sh in s.shelters if sh.township_code in north}
        assert all(
            a.stockpile_id not in south_depots for a in plan.allocation if a.site_id == inc.id
        )
        mine = [a for a in plan.allocation if a.site_id == inc.id]
        assert mine  # the north-bank depot still serves it
        moves = [m for m in plan.evacuation if m.group_id == inc.id]
        assert moves and all(m.shelter_id in north_shelters for m in moves)
        cut = [u for u in plan.unserved_for(inc.id) if u.reason == Reason.UNREACHABLE]
        assert cut and all(u.message_zh for u in cut)
        t = panel.unserved_table  # what the operator reads in the 未满足需求 tab
        rows = [
            " ".join(t.item(r, c).text() for c in range(t.columnCount()) if t.item(r, c))
            for r in range(t.rowCount())
        ]
        assert any("北岸山洪" in r and "不可达" in r for r in rows), rows
    finally:
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=60000)
        close_window(w)


def test_template_note_shows_a_hostile_plan_name_as_text(qapp, demo_scenario) -> None:
    """预案 names come from the workspace (documents ``plan_templates``): never as markup."""
    from gis.catalogue import load_plan_templates
    from gui.editors import IncidentDialog, default_entity

    s = demo_scenario
    templates = load_plan_templates()
    hostile = "<img src=x onerror=alert(1)>"
    tpl = {hostile: templates[sorted(templates)[0]]}
    seat = s.townships[0].location
    inc = default_entity("incidents", "INC-9999", seat.lon, seat.lat, s)
    dlg = IncidentDialog(s, inc, tpl, is_new=True)
    dlg.subtype.setEditText(hostile)
    assert dlg.fill_from_template() is True
    assert hostile in dlg.template_note.text()
    assert dlg.template_note.textFormat() == Qt.TextFormat.PlainText
    dlg.close()


def test_hand_adjusted_needs_survive_a_change_of_affected_people(qapp, demo_scenario) -> None:
    """Operators adjust the 预案's needs; typing a new head count must not silently undo that."""
    from gis.catalogue import load_plan_templates
    from gui.editors import IncidentDialog, default_entity

    s = demo_scenario
    templates = load_plan_templates()
    seat = s.townships[0].location
    inc = default_entity("incidents", "INC-9998", seat.lon, seat.lat, s)
    dlg = IncidentDialog(s, inc, templates, is_new=True)
    dlg.subtype.setEditText("山洪")
    dlg.people.setValue(400)
    auto = dict(dlg.needs.values())
    assert auto, "the template fills needs"
    code = sorted(auto)[0]
    # before any hand edit, a new head count rescales the needs from the template
    dlg.people.setValue(800)
    assert dlg.needs.values() != auto
    # the operator changes one quantity in the table
    model = dlg.needs.model
    row = list(dlg.needs.values()).index(code)  # rows are in the mapping's order
    assert model.setData(model.index(row, 1), "7", Qt.ItemDataRole.EditRole)
    adjusted = dict(dlg.needs.values())
    assert adjusted[code] == 7
    dlg.people.setValue(1200)  # no automatic refill now
    assert dict(dlg.needs.values()) == adjusted
    assert "手工调整" in dlg.template_note.text()
    # the explicit button still recomputes from the template
    assert dlg.fill_from_template() is True
    assert dict(dlg.needs.values())[code] != 7
    dlg.close()
