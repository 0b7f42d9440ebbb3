"""Regression tests for bugs found by driving the real app as an operator would (QA pass)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from gis.workspace import read_workspace  # noqa: E402
from gui.table_models import parse_quantity  # noqa: E402

pytestmark = pytest.mark.gui


def test_parse_quantity_accepts_what_the_table_shows_and_refuses_the_rest() -> None:
    assert parse_quantity("1,000") == 1000
    assert parse_quantity(" 12 ") == 12
    assert parse_quantity(0) == 0
    assert parse_quantity(2.5) == 2.5
    for bad in ("abc", "", "-5", -1, "nan", "inf", "1e400", None, True):
        assert parse_quantity(bad) is None, bad


def test_inventory_cell_with_text_or_negative_shows_a_message(
    qapp, demo_workspace_path: Path
) -> None:
    """Typing text or a negative number in an inventory cell used to revert silently."""
    from gui.editors import StockpileDialog

    s = read_workspace(demo_workspace_path, include_roads=False).scenario
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


def test_every_window_shortcut_fires_one_action(qapp, tmp_path: Path, monkeypatch) -> None:
    """Ctrl+N was both "new workspace" and "new incident": Qt fired neither (ambiguous)."""
    from PyQt6.QtGui import QAction

    from gui.main_window import MainWindow

    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
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
        w.session.undo_stack.setClean()
        w.close()
        w.map.dispose()
        w.deleteLater()


def test_stored_plan_routes_are_drawn_when_the_workspace_opens(
    qtbot, qapp, tmp_path: Path, monkeypatch, demo_workspace_path: Path
) -> None:
    """Reopening (or recovering) a workspace with a plan showed the plan but no routes on the map:
    the routes were pushed to the old page, which the new page then replaced."""
    import shutil

    from gui.main_window import MainWindow

    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws)
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
        monkeypatch.setattr(dp.QInputDialog, "getText", lambda *a, **k: ("   ", True))
        monkeypatch.setattr(dp.QMessageBox, "warning", lambda *a, **k: warned.append(a))
        assert panel.approve() is None
        assert warned and "批准人" in warned[0][2]
        assert panel.plan.status.value == "草稿"
        monkeypatch.setattr(dp.QInputDialog, "getText", lambda *a, **k: (" 张三 ", True))
        approved = panel.approve()
        assert approved is not None and approved.approvals[-1].who == "张三"
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
        w.session.undo_stack.setClean()
        w.close()
        w.runner.wait(10000)
        w.map.dispose()
        w.deleteLater()
        qapp.processEvents()


def test_discarding_changes_on_close_drops_the_recovery_copy(
    qtbot, qapp, tmp_path: Path, monkeypatch, demo_workspace_path: Path
) -> None:
    """Recover, then close with "Discard": the same recovery was offered again at next start."""
    import shutil
    from dataclasses import replace

    from PyQt6.QtWidgets import QMessageBox

    from gui import main_window
    from gui.main_window import MainWindow

    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("RELIEFDESK_RECOVERY_DIR", str(tmp_path / "recovery"))
    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws)
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
        w.session.undo_stack.setClean()
        w.close()
        w.runner.wait(10000)
        w.map.dispose()
        w.deleteLater()
        qapp.processEvents()
