""" "怎样可以满足？" in the desk (pytest-qt): the search for the shown plan runs as a background job
in a child process, can be cancelled, refuses a plan of other data, and its dialog shows the
suggestions as plain text. The dock has the button next to its tabs."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.results import Status  # noqa: E402
from dispatch.timeliness import NeedState, need_lines  # noqa: E402
from gis.loading import load_road_network  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gis.workspace_service import WorkspaceRef  # noqa: E402
from gui.controllers.dispatch import DispatchController  # noqa: E402
from gui.controllers.relax import RelaxController  # noqa: E402
from gui.docks.relax_dialog import RelaxDialog  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 120_000


@pytest.fixture
def parts(qapp, tmp_path, demo_workspace_path, demo_plan):
    ws_path = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws_path)
    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    session.load(read_workspace(ws_path, include_roads=True), WorkspaceRef(path=ws_path))
    session.network = load_road_network(ws_path, session.scenario)
    runner = JobRunner()
    ctl = DispatchController(session, runner)
    ctl.show(demo_plan)
    relax = RelaxController(ctl)
    yield session, ctl, relax
    relax.cancel()
    runner.wait(60_000)
    qapp.processEvents()
    for obj in (relax, ctl, runner, session):
        obj.deleteLater()
    qapp.processEvents()


def test_search_runs_in_the_background_and_the_dialog_shows_it(qtbot, parts, demo_plan):
    session, ctl, relax = parts
    assert not ctl.stale
    with qtbot.waitSignal(relax.sig_done, timeout=TIMEOUT_MS) as blocker:
        assert relax.start(budget_s=3.0) is not None
        assert relax.busy and relax.start() is None  # one search at a time
    report, cancelled = blocker.args
    assert not cancelled and not relax.busy
    late = [ln for ln in need_lines(demo_plan) if ln.state is not NeedState.ON_TIME]
    assert [n.line for n in report.needs] == late
    assert report.plan_number == demo_plan.number
    dialog = RelaxDialog(report)
    text = dialog.text.toPlainText()
    assert text == report.text()
    if late:
        assert late[0].site_name in text and str(len(late)) in dialog.header.text()
    dialog.deleteLater()


def test_cancel_returns_what_was_found(qtbot, parts):
    _session, ctl, relax = parts
    ctl.in_child = False  # in the job's thread: the stop is seen at once
    with qtbot.waitSignal(relax.sig_done, timeout=TIMEOUT_MS) as blocker:
        job = relax.start(budget_s=60.0)
        assert job is not None
        relax.cancel()
    report, cancelled = blocker.args
    assert cancelled
    assert report.status in (Status.CANCELLED, Status.OPTIMAL)  # OPTIMAL: nothing to search


def test_a_result_for_a_plan_no_longer_shown_is_dropped(qtbot, parts):
    _session, ctl, relax = parts
    ctl.in_child = False
    done: list = []
    relax.sig_done.connect(lambda *a: done.append(a))
    with qtbot.waitSignal(relax.sig_failed, timeout=TIMEOUT_MS) as blocker:
        assert relax.start(budget_s=1.0) is not None
        ctl.show(None)  # the operator cleared or replaced the plan meanwhile
    assert "已丢弃" in blocker.args[0] and not done and not relax.busy


def test_a_plan_of_other_data_is_refused(qtbot, parts):
    session, ctl, relax = parts
    inc = session.scenario.open_incidents()[0]
    session.upsert(dataclasses.replace(inc, deadline_min=99.0), "edit")
    session.undo_stack.clear()
    assert ctl.stale
    with qtbot.waitSignal(relax.sig_failed, timeout=5_000) as blocker:
        assert relax.start() is None
    assert "重新生成" in blocker.args[0]


def test_dock_button_runs_it_and_opens_the_dialog(qtbot, qapp, tmp_path, demo_plan, monkeypatch):
    import gui.controllers.relax as relax_module
    from gui.docks.dispatch_panel import DispatchPanel

    monkeypatch.setattr(relax_module, "DESK_BUDGET_S", 2.0)
    ws_path = tmp_path / "demo.gpkg"
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "hejiang_demo.gpkg", ws_path)
    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    session.load(read_workspace(ws_path, include_roads=True), WorkspaceRef(path=ws_path))
    session.network = load_road_network(ws_path, session.scenario)
    runner = JobRunner()
    panel = DispatchPanel(session, runner)
    qtbot.addWidget(panel)
    assert not panel.relax_button.isEnabled()  # no plan yet
    panel.controller.in_child = False
    panel.controller.show(demo_plan)
    assert panel.relax_button.isEnabled()
    with qtbot.waitSignal(panel.relax.sig_done, timeout=TIMEOUT_MS):
        panel.relax_button.click()
        assert not panel.relax_button.isEnabled()  # one search at a time
    assert panel.relax_dialog is not None and panel.relax_dialog.isVisible()
    assert panel.relax_dialog.text.toPlainText().startswith(f"方案 {demo_plan.number}")
    assert panel.relax_button.isEnabled()
    panel.relax_dialog.close()
    runner.wait(60_000)
