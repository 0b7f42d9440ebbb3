"""GUI building blocks without the web view: translations, workers, session, excepthook, tables."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import Qt  # noqa: E402

from gis.model import IncidentStatus  # noqa: E402
from gis.phrases import EN  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui import i18n  # noqa: E402
from gui.i18n_catalog import data_strings  # noqa: E402
from gui.session import EVENT_LOG, RecoveryStore, Session  # noqa: E402
from gui.table_models import COLUMNS, SORT_ROLE, EntityTableModel, make_proxy  # noqa: E402
from gui.workers import JobRunner  # noqa: E402
from tests.gui_fixtures import close_window  # noqa: E402

pytestmark = pytest.mark.gui
GUI = Path(__file__).resolve().parents[1] / "gui"


def _ui_strings() -> set[str]:
    """Every Chinese UI string the code sends through the translator (without lupdate: the
    literal calls by pattern, the data from the extractor's own catalogue)."""
    found: set[str] = set(data_strings())
    for p in GUI.rglob("*.py"):
        if p.name.startswith("i18n"):  # the machinery's docstrings show the call forms
            continue
        text = p.read_text(encoding="utf-8")
        found.update(re.findall(r'\b(?:tr|tr_noop)\(\s*"((?:[^"\\]|\\.)*)"\s*\)', text))
        found.update(re.findall(r'\b_action\(\s*"((?:[^"\\]|\\.)*)"', text))
    return found


def test_dispatch_panel_strings_are_collected() -> None:
    """The scan really sees the dispatch panel (its tab titles and headers are in the set)."""
    found = _ui_strings() | set(EN)
    assert {"生成调度方案", "车辆路线", "未满足或迟到", "迟到(分钟)", "出发储备库"} <= found
    assert {"库存不足", "草稿", "软（全部送达，部分迟到）"} <= found


def test_english_translation_is_complete() -> None:
    table = i18n.read_ts(i18n.I18N_DIR / "reliefdesk_en.ts")
    have = {src for (_ctx, src) in table}
    missing = sorted(s for s in _ui_strings() if s not in have and s not in EN)
    assert not missing, missing
    # placeholders survive translation
    for (_ctx, src), dst in table.items():
        assert set(re.findall(r"\{[^}]*\}", src)) == set(re.findall(r"\{[^}]*\}", dst)), src


def test_translation_file_has_one_source_and_translation_per_message() -> None:
    """Merged translation files must not fuse two messages into one (the first source would be
    shadowed silently) nor list a source twice."""
    import xml.etree.ElementTree as ET
    from collections import Counter

    root = ET.parse(i18n.I18N_DIR / "reliefdesk_en.ts").getroot()
    fused = [
        [s.text for s in m.findall("source")]
        for m in root.iter("message")
        if len(m.findall("source")) != 1 or len(m.findall("translation")) != 1
    ]
    assert not fused, fused
    twice = [s for s, n in Counter(m.findtext("source") for m in root.iter("message")).items() if n > 1]
    assert not twice, twice


def test_language_switch(qapp) -> None:
    try:
        assert i18n.install_language("en") == "en"
        assert i18n.tr("文件(&F)") == "&File"
        assert i18n.tr("比例尺 1:{n:,.0f}").format(n=50000) == "Scale 1:50,000"
        assert i18n.tr("没有这个词") == "没有这个词"
    finally:
        assert i18n.install_language("zh_CN") == "zh_CN"
    assert i18n.tr("文件(&F)") == "文件(&F)"


def test_worker_cancel_keeps_best_result(qtbot) -> None:
    runner = JobRunner()
    started = threading.Event()

    def run(n: int, *, stop, progress):
        best = 0
        for i in range(n):
            if stop():
                break
            best = i
            progress(i / n, f"step {i}")
            if i >= 5:
                started.set()
            threading.Event().wait(0.002)
        return best

    got: list = []
    job = runner.start("count", run, 10_000_000, on_done=lambda r, c: got.append((r, c)))
    assert started.wait(10)
    job.cancel()
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    result, cancelled = got[0]
    assert cancelled is True and 5 <= result < 10_000_000
    assert not runner.busy
    # errors arrive as a signal with the traceback
    errs: list = []

    def boom(_d, *, stop, progress):
        raise ValueError("bad input in row 3")

    runner.start("boom", boom, None, on_error=lambda m, tb: errs.append((m, tb)))
    qtbot.waitUntil(lambda: bool(errs), timeout=10000)
    assert errs[0][0] == "bad input in row 3" and "ValueError" in errs[0][1]


def test_session_undo_log_save(qtbot, tmp_path: Path, demo_workspace_path: Path) -> None:
    ws = read_workspace(demo_workspace_path, include_roads=False)
    session = Session(recovery=RecoveryStore(tmp_path / "rec"))
    changes: list = []
    session.sig_scenario_changed.connect(lambda new, old: changes.append((new, old)))
    session.load(ws, demo_workspace_path)
    assert not session.dirty
    inc = ws.scenario.incidents[0]
    session.set_incident_status(inc.id, IncidentStatus.ASSESSING)
    session.set_incident_status(inc.id, IncidentStatus.DISPATCHING)
    assert session.dirty
    log = session.event_log()
    assert [(e["from"], e["to"]) for e in log[-2:]] == [
        (inc.status.value, "研判"),
        ("研判", "调度"),
    ]
    session.undo_stack.undo()
    assert session.scenario.find(inc.id).status == IncidentStatus.ASSESSING
    assert len(session.event_log()) == len(log) - 1
    # drags of the same marker merge into one undo step when pushed with a merge key
    sp = ws.scenario.stockpiles[0]
    for k in range(3):
        loc = replace(sp.location, lon=sp.location.lon + 0.001 * (k + 1))
        session.apply(session.scenario.upsert(replace(sp, location=loc)), "drag", merge_key=sp.id)
    index = session.undo_stack.index()
    session.undo_stack.undo()
    assert session.scenario.find(sp.id).location == sp.location
    session.undo_stack.redo()
    assert session.undo_stack.index() == index
    out = tmp_path / "out.gpkg"
    session.save(out)
    assert not session.dirty
    back = read_workspace(out, include_roads=False)
    assert back.scenario == session.scenario
    assert back.documents[EVENT_LOG] == session.documents[EVENT_LOG]
    assert changes and changes[-1][0] is session.scenario


def test_save_while_road_reading_is_deferred(
    qapp, tmp_path: Path, demo_workspace_path: Path
) -> None:
    """A save before the deferred road frames arrived still writes the roads (copied over)."""
    ws = read_workspace(demo_workspace_path, include_roads=False)
    session = Session(recovery=RecoveryStore(tmp_path / "rec"))
    session.load(ws, demo_workspace_path)
    session.roads_source = demo_workspace_path
    assert session.has_roads and session.road_edges is None
    out = tmp_path / "early.gpkg"
    session.save(out)
    full = read_workspace(demo_workspace_path, include_roads=True)
    back = read_workspace(out, include_roads=True)
    assert back.scenario == ws.scenario
    assert len(back.road_edges) == len(full.road_edges) and len(back.road_nodes) == len(
        full.road_nodes
    )


def test_table_model_sorts_numbers_and_filters(qapp, demo_scenario) -> None:
    s = demo_scenario
    model = EntityTableModel("shelters", s)
    proxy = make_proxy(model)
    assert model.rowCount() == len(s.shelters) and model.columnCount() == len(COLUMNS["shelters"])
    proxy.sort(4)  # capacity, numeric
    caps = [proxy.index(r, 4).data(SORT_ROLE) for r in range(proxy.rowCount())]
    assert caps == sorted(sh.capacity for sh in s.shelters)
    proxy.set_search(s.shelters[0].id)
    assert proxy.rowCount() >= 1
    # a scenario change that leaves shelters alone does not reset the model
    assert model.set_scenario(s.replace(name="x")) is False
    assert model.set_scenario(s.remove(s.shelters[0].id)) is True
    assert model.rowCount() == len(s.shelters) - 1


def test_excepthook_logs_and_reports(qapp, tmp_path: Path, monkeypatch) -> None:
    from gui.app_main import ExceptHook, setup_logging

    monkeypatch.setenv("RELIEFDESK_LOG_DIR", str(tmp_path))
    log_file = setup_logging()

    class Panel:
        def __init__(self) -> None:
            self.items: list = []

        def add(self, level, text, details=""):
            self.items.append((level, text, details))

    class Win:
        messages = Panel()

    win = Win()
    hook = ExceptHook(win, interactive=False, log_file=log_file)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError as exc:
        hook(type(exc), exc, exc.__traceback__)
    import logging

    for h in logging.getLogger().handlers:
        h.flush()
    assert "boom in a slot" in log_file.read_text(encoding="utf-8")
    assert win.messages.items[0][0] == "error" and "RuntimeError" in win.messages.items[0][2]
    assert hook.errors


def test_editors_build_entities_and_show_errors(qapp, demo_scenario) -> None:
    from gui.editors import ShelterDialog, TeamDialog

    s = demo_scenario
    team = s.teams[0]
    dlg = TeamDialog(s, team)
    # skills: tick one more, add a free-text one
    items = [dlg.skills.item(i) for i in range(dlg.skills.count())]
    extra = next(i for i in items if i.text() not in team.skills)
    extra.setCheckState(Qt.CheckState.Checked)
    dlg.new_skill.setText("无人机侦察")
    dlg._add_skill()
    # a vehicle with a bad capacity is refused with a message naming the row
    dlg.vehicles.add_row("", "皮卡", "heavy", 2, "", 1.0)
    assert dlg.try_accept() is False
    assert str(dlg.vehicles.table.rowCount()) in dlg.error.text()
    dlg.vehicles.table.item(dlg.vehicles.table.rowCount() - 1, 2).setText("800")
    assert dlg.try_accept() is True
    new = dlg.entity
    assert set(new.skills) == {*team.skills, extra.text(), "无人机侦察"}
    assert len(new.vehicles) == len(team.vehicles) + 1
    assert new.vehicles[-1].capacity_kg == 800 and new.vehicles[-1].home_id == team.id
    # a shelter whose occupancy exceeds its capacity: the model's ValidationError is shown
    sh = s.shelters[0]
    d2 = ShelterDialog(s, sh)
    d2.capacity.setValue(10)
    d2.occupancy.setValue(20)
    assert d2.try_accept() is False
    assert "occupancy" in d2.error.text() and sh.id in d2.error.text()
    d2.occupancy.setValue(5)
    code = s.materials[0].code
    d2.stock.model.set_value(code, 42)
    assert d2.try_accept() is True
    assert d2.entity.capacity == 10 and d2.entity.stock[code] == 42


def test_window_in_english(qapp, tmp_path: Path, monkeypatch) -> None:
    from gui.main_window import MainWindow

    monkeypatch.setenv("RELIEFDESK_SETTINGS_DIR", str(tmp_path))
    try:
        i18n.install_language("en")
        w = MainWindow(interactive=False, language="en")
        try:
            assert w.file_menu.title() == "&File"
            assert w.table_docks["incidents"].windowTitle() == "Incidents"
            assert w.tables["shelters"].model.headerData(4, Qt.Orientation.Horizontal) == "Capacity"
            assert w.language_actions["en"].isChecked()
        finally:
            close_window(w)
    finally:
        i18n.install_language("zh_CN")
