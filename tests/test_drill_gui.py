"""The 演练 dock on the bundled demo county (pytest-qt, offscreen): author a script in the
workspace (undo, file round trip, row validation), step a manual drill with the 调度方案 dock
planning the drill's scenario, and an automatic drill re-planned in a worker, then its report.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from dispatch.drills.store import DRILL_SCRIPTS_KIND, stored_scripts  # noqa: E402
from dispatch.records import PlanStatus  # noqa: E402
from gis.loading import load_road_network  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui.controllers.dispatch import ShownPlan  # noqa: E402
from gui.controllers.drill import DrillController  # noqa: E402
from gui.docks.dispatch_panel import DispatchPanel  # noqa: E402
from gui.docks.drill_panel import DrillPanel  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "drills" / "hejiang_flood_drill.json"
RUN_TIMEOUT_MS = 90000


@pytest.fixture(scope="module")
def desk(qapp, tmp_path_factory, demo_workspace_path):
    d = tmp_path_factory.mktemp("drillgui")
    ws_path = d / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws_path)
    session = Session(recovery=RecoveryStore(d / "recovery"))
    ws = read_workspace(ws_path, include_roads=True)
    session.load(ws, ws_path)
    session.network = load_road_network(ws_path, session.scenario)
    runner = JobRunner()
    dispatch = DispatchPanel(session, runner)
    dispatch.controller.in_child = False  # solve in a thread of the test process
    controller = DrillController(session, runner, dispatch.controller)
    panel = DrillPanel(session, runner, controller)
    panel.resize(800, 900)
    panel.show()
    yield session, dispatch, panel, d
    controller.stop_run()
    runner.wait(30000)
    for w in (panel, dispatch):
        w.close()
        w.deleteLater()
    session.undo_stack.clear()
    session.deleteLater()
    runner.deleteLater()
    qapp.processEvents()
    gc.collect()


def _cell(panel: DrillPanel, row: int, col: int) -> str:
    return panel.timeline.item(row, col).text()


def test_author_script_in_the_workspace(desk) -> None:
    session, _dispatch, panel, d = desk
    assert panel.controller.data() is None and not panel.add_button.isEnabled()
    key = panel.new_script("桌面演练测试")
    assert panel.controller.key == key and panel.name_edit.text() == "桌面演练测试"
    # a new incident placed by the form (the map click fills lon/lat the same way)
    dlg = panel.add_inject()
    assert dlg.kind.currentData() == "incident"
    dlg.inc_type.setEditText("山洪")
    dlg.inc_name.setText("测试山洪")
    dlg.set_point(106.1, 28.845)
    dlg.inc_people.setValue(120)
    assert dlg.try_accept()
    assert panel.timeline.rowCount() == 1 and _cell(panel, 0, 4) == "✓"
    assert _cell(panel, 0, 2).startswith("DRILL-INC-")
    assert panel.start_button.isEnabled()
    # an inject naming a team that does not exist: marked next to its row, the run refused
    dlg = panel.add_inject()
    dlg.kind.setCurrentIndex(dlg.kind.findData("team_unavailable"))
    dlg.at_min.setValue(30)
    dlg.targets["team_unavailable"].setEditText("NO-SUCH-TEAM")
    assert dlg.try_accept()
    assert panel.timeline.rowCount() == 2
    assert "NO-SUCH-TEAM" in _cell(panel, 1, 4) and _cell(panel, 1, 4).startswith("inject #2")
    assert not panel.start_button.isEnabled()
    assert not panel.controller.start_run(auto=False)
    # a closure without geometry is refused by the form itself
    dlg = panel.add_inject()
    dlg.kind.setCurrentIndex(dlg.kind.findData("closure"))
    assert not dlg.try_accept() and "GeoJSON" in dlg.error.text()
    dlg.reject()
    # undo takes the wrong row back out; the script is a workspace document
    session.undo_stack.undo()
    assert panel.timeline.rowCount() == 1 and panel.start_button.isEnabled()
    # placed on the map: a click the dock asked for opens the form at that point, a drawn
    # closure fills the geometry (the map's bridge signals call these; without a request they
    # are not the drill's)
    assert panel.on_map_clicked(105.9, 28.8) is None
    panel.pending = "incident"
    dlg = panel.on_map_clicked(105.95, 28.79)
    assert (dlg.lon.value(), dlg.lat.value()) == (105.95, 28.79) and panel.pending is None
    dlg.reject()
    panel.pending = "closure"
    line = {"type": "LineString", "coordinates": [[105.98, 28.78], [105.99, 28.79]]}
    dlg = panel.on_closure_drawn(json.dumps(line))
    assert dlg.kind.currentData() == "closure" and dlg.clo_id.text() == "DRILL-CL-1"
    assert dlg.try_accept()
    assert panel.timeline.rowCount() == 2 and _cell(panel, 1, 4) == "✓"
    assert "LineString" in _cell(panel, 1, 3)
    session.undo_stack.undo()
    assert key in session.documents[DRILL_SCRIPTS_KIND]
    # export in the CLI's format and import it again: the same script
    out = d / "exported.json"
    assert panel.export_script(out)
    key2 = panel.import_script(out)
    assert key2 != key and stored_scripts(session.documents)[key2] == json.loads(
        out.read_text(encoding="utf-8")
    )
    # saved with the workspace, read back
    saved = session.save(d / "saved.gpkg")
    assert set(stored_scripts(read_workspace(saved).documents)) == {key, key2}


def test_manual_drill_steps_and_times_the_approval(desk, qtbot) -> None:
    session, dispatch, panel, _d = desk
    c = panel.controller
    key = panel.import_script(EXAMPLE)
    c.select(key)
    before = session.scenario
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(False))
    assert panel.toggle_run() and c.running
    drill = c.drill
    assert panel.step_button.isEnabled() and not panel.skip_button.isEnabled()
    # play at ×60 for 25 wall seconds: the clock stops at the closure at T+20
    panel.speed_combo.setCurrentIndex(panel.speed_combo.findData(60.0))
    c.play()
    c.advance(25)
    assert drill.clock_min == 20 and drill.awaiting == 1
    assert "T+20" in panel.clock_label.text() and "调度方案" in panel.status_label.text()
    # the dispatch dock now plans the drill's scenario; the session's stays as it was
    assert "DRILL-CL-1" in {x.id for x in dispatch.controller.current_scenario().closures}
    assert session.scenario is before
    # the dock's run is the drill's re-plan: at the simulated time, vehicles tracked, nothing
    # in force yet (no baseline was approved)
    req = dispatch.controller.request(dispatch.controller.options(1, None))
    assert req.track_fleet and req.options.created_at == drill.simulated_at
    assert req.previous_plan is None and req.scenario is drill.view()
    job = dispatch.run_dispatch(seconds=1)
    assert job is not None
    qtbot.waitUntil(lambda: not dispatch.controller.busy, timeout=RUN_TIMEOUT_MS)
    plan = dispatch.controller.plan
    assert plan.inputs.scenario_hash == dispatch.controller.scenario_hash()  # not stale
    assert drill.awaiting == 1  # a draft does not close the step
    assert dispatch.controller.approve("演练指挥", allow_partial=True) is not None
    assert drill.awaiting is None
    step = drill.steps[-1]
    assert step.plan.number == plan.number and step.wall_s > 0
    assert panel.score_table.rowCount() == 1 and panel.score_table.item(0, 3).text() == plan.number
    # the next inject by hand; the plan approved for the step before does not close it
    c.step()
    assert drill.awaiting == 2 and panel.skip_button.isEnabled()
    # the next re-plan starts from the approved plan, in force as issued
    req = dispatch.controller.request(dispatch.controller.options(1, None))
    assert req.previous_plan.number == plan.number and req.previous_plan.status.value == "已下达"
    assert req.options.created_at == drill.simulated_at
    assert dispatch.controller.stale  # the escalation changed the drill's scenario
    c._on_plan_shown(ShownPlan(dataclasses.replace(plan, number="X-1", status=PlanStatus.APPROVED)))
    assert drill.awaiting == 2
    c.continue_without_plan()
    texts = [panel.log_table.item(r, 2).text() for r in range(panel.log_table.rowCount())]
    assert any("人工批准" in t for t in texts) and any("未重新调度" in t for t in texts)
    panel.toggle_run()
    assert not c.running and dispatch.controller.scenario_source is None
    assert not dispatch.controller.request(dispatch.controller.options(1, None)).track_fleet
    assert session.scenario is before


def test_auto_drill_replans_in_a_worker_and_exports(desk, qtbot) -> None:
    session, _dispatch, panel, d = desk
    c = panel.controller
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["injects"] = data["injects"][:2]
    src = d / "short.json"
    src.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    c.select(panel.import_script(src))
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(True))
    panel.seconds_spin.setValue(1.0)
    assert panel.toggle_run()
    drill = c.drill
    assert drill.awaiting == 0 and c.job is not None  # the baseline runs in the background
    assert panel.cancel_button.isEnabled() and not panel.step_button.isEnabled()
    qtbot.waitUntil(lambda: drill.awaiting is None, timeout=RUN_TIMEOUT_MS)
    for n in (1, 2):
        c.step()
        assert drill.awaiting == n
        qtbot.waitUntil(lambda: drill.awaiting is None, timeout=RUN_TIMEOUT_MS)
    assert drill.finished and [s.number for s in drill.steps] == [0, 1, 2]
    assert all(s.plan is not None and s.plan.status.value == "已下达" for s in drill.steps)
    assert drill.steps[2].plan.inputs.previous_plan == drill.steps[1].plan.number
    assert panel.overall_table.rowCount() > 5
    out = d / "report"
    job = panel.export_report(out)
    qtbot.waitUntil(lambda: job.done, timeout=RUN_TIMEOUT_MS)
    written = json.loads((out / "drill.json").read_text(encoding="utf-8"))
    assert [s["kind"] for s in written["steps"]] == ["closure", "escalate"]
    assert (out / "steps" / "02" / "plan.json").exists()
    assert (out / "report.pdf").stat().st_size > 0 and (out / "report.xlsx").exists()
    assert written["scorecard"]["planned_steps"] == 2


def test_auto_replan_cancel_keeps_the_best_plan(desk, qtbot) -> None:
    """Cancel during an automatic re-plan: the run stops early and its best plan closes the
    step (marked as cut short), the drill goes on."""
    _session, _dispatch, panel, _d = desk
    c = panel.controller
    c.stop_run()
    c.select(panel.import_script(EXAMPLE))
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(True))
    panel.seconds_spin.setValue(120.0)
    assert panel.toggle_run()
    drill = c.drill
    assert c.job is not None and panel.cancel_button.isEnabled()
    c.cancel_replan()
    qtbot.waitUntil(lambda: drill.awaiting is None, timeout=RUN_TIMEOUT_MS)
    plan = drill.steps[0].plan
    assert plan is not None and plan.partial
    assert plan.status.value == "已下达"
    assert not panel.cancel_button.isEnabled() and panel.step_button.isEnabled()
    panel.toggle_run()


def test_window_hands_drawings_to_the_drill_only_when_asked(qapp, tmp_path, monkeypatch) -> None:
    """In the main window: a closure drawn without the 演练 dock asking is the workspace's (as
    before the dock existed); one the dock asked for opens its inject form and leaves the
    workspace alone; Esc withdraws the request."""
    from datetime import datetime

    from gui.docks.drill_panel import install_drill_panel
    from gui.main_window import MainWindow

    for var in ("SETTINGS", "RECOVERY", "LOG"):
        monkeypatch.setenv(f"RELIEFDESK_{var}_DIR", str(tmp_path / var.lower()))
    w = MainWindow(interactive=False)
    try:
        panel = w.drill_panel
        assert install_drill_panel(w) is panel  # installed once
        point = json.dumps({"type": "Point", "coordinates": [105.9, 28.8]})
        w.map.bridge.sig_closure_drawn.emit(point)
        assert len(w.session.scenario.closures) == 1
        panel.controller.new_script("窗口测试", datetime(2026, 7, 12, 10, 0))
        panel.draw_closure("point")
        assert panel.pending == "closure"
        w.map.bridge.sig_closure_drawn.emit(point)
        assert panel.dialog is not None and panel.dialog.kind.currentData() == "closure"
        assert len(w.session.scenario.closures) == 1
        panel.dialog.reject()
        panel.place_incident()
        w.act_cancel.trigger()  # Esc: the next click is not the drill's
        assert panel.pending is None and panel.on_map_clicked(105.9, 28.8) is None
    finally:
        w.session.undo_stack.setClean()
        w.close()
