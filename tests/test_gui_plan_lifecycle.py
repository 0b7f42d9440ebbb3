"""Plan status steps in the desk (issue 8 item 5), pytest-qt offscreen, on the demo county.

The demo's plan (``demo_plan``) and a really cancelled pipeline run on the demo are stored in a
:class:`gui.session.Session` the way a run stores them (one undoable step each); the dispatch
dock then walks them through the workflow with its step buttons. The step dialog is replaced by
a stub answering as an operator would (``panel.ask_step``); the dialog itself is tested apart.
"""

from __future__ import annotations

import gc
import shutil

import pytest

pytest.importorskip("PyQt6.QtWebEngineWidgets")

from PyQt6.QtWidgets import QDialogButtonBox  # noqa: E402

from dispatch.pipeline import DispatchOptions, plan_dispatch  # noqa: E402
from dispatch.plan import PLANS_DOCUMENT_KIND, Plan, with_plan  # noqa: E402
from dispatch.plan_review import review_items  # noqa: E402
from dispatch.records import PlanStatus  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gui.docks import dispatch_panel as dp  # noqa: E402
from gui.docks.dispatch_panel import STEP_BUTTONS, DispatchPanel  # noqa: E402
from gui.docks.plan_step_dialog import PlanStepDialog, StepAnswer  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
S = PlanStatus


@pytest.fixture(scope="module")
def cancelled_plan(demo_scenario, demo_network) -> Plan:
    return plan_dispatch(demo_scenario, demo_network, DispatchOptions(seconds=2), stop=lambda: True)


@pytest.fixture
def desk(qapp, tmp_path, demo_workspace_path):
    ws = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws)
    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    session.load(read_workspace(ws, include_roads=False), ws)
    runner = JobRunner()
    panel = DispatchPanel(session, runner)
    panel.resize(700, 800)
    yield session, panel
    session.undo_stack.clear()
    panel.close()
    panel.deleteLater()
    runner.deleteLater()
    session.deleteLater()
    qapp.processEvents()
    gc.collect()


def store(session: Session, plan: Plan) -> None:
    """As a run stores its plan: one undoable step."""
    docs = with_plan(session.documents, plan)
    session.apply(session.scenario, f"生成调度方案 {plan.number}", documents=docs)


def stored(session: Session, number: str) -> Plan:
    return Plan.from_json(session.documents[PLANS_DOCUMENT_KIND][number])


def enabled_steps(panel: DispatchPanel) -> set[PlanStatus]:
    return {t for attr, _l, t in STEP_BUTTONS if getattr(panel, attr).isEnabled()}


def answer(*args, **kw):
    return lambda plan, target: StepAnswer(*args, **kw)


def test_dock_walks_the_plan_through_its_states(desk, demo_plan) -> None:
    session, panel = desk
    store(session, demo_plan)
    panel.show_stored(demo_plan.number)
    steps = session.undo_stack.count()
    assert enabled_steps(panel) == {S.APPROVED, S.VOID}
    expect = {
        S.APPROVED: {S.ISSUED, S.VOID},
        S.ISSUED: {S.EXECUTING, S.VOID},
        S.EXECUTING: {S.COMPLETED, S.VOID},
        S.COMPLETED: set(),
    }
    for target, who in (
        (S.APPROVED, "张局长"),
        (S.ISSUED, "值班员李四"),
        (S.EXECUTING, "值班员李四"),
        (S.COMPLETED, "值班员李四"),
    ):
        panel.ask_step = answer(who, "按预案")
        button = next(getattr(panel, a) for a, _l, t in STEP_BUTTONS if t == target)
        button.click()
        assert panel.plan.status == target and stored(session, demo_plan.number) == panel.plan
        assert enabled_steps(panel) == expect[target]
        assert f"{target.value}" in panel.summary.text() and who in panel.summary.text()
    plan = panel.plan
    assert [a.to_status for a in plan.approvals] == [S.APPROVED, S.ISSUED, S.EXECUTING, S.COMPLETED]
    assert plan.issued_at is not None
    # every step is in the event log, none is on the undo stack
    log = [e for e in session.event_log() if e.get("plan") == plan.number]
    assert [(e["from"], e["to"]) for e in log] == [
        ("草稿", "已批准"),
        ("已批准", "已下达"),
        ("已下达", "执行中"),
        ("执行中", "已完成"),
    ]
    assert all(e["who"] and plan.number in e["incident"] for e in log)
    assert session.undo_stack.count() == steps and session.dirty
    # Ctrl+Z undoes the run's storing, not the steps: the plan and its log stay as they are
    session.undo_stack.undo()
    assert stored(session, plan.number) == plan and panel.plan == plan
    assert [e for e in session.event_log() if e.get("plan") == plan.number] == log
    session.undo_stack.redo()
    assert stored(session, plan.number) == plan
    labels = [panel.stored.itemText(i) for i in range(panel.stored.count())]
    assert labels == [f"{plan.number}　已完成"]
    # the saved workspace holds the steps
    path = session.save()
    back = read_workspace(path, include_roads=False).documents[PLANS_DOCUMENT_KIND]
    assert Plan.from_json(back[plan.number]) == plan and not session.dirty


def test_void_needs_a_reason_in_the_dock(desk, demo_plan, monkeypatch) -> None:
    session, panel = desk
    store(session, demo_plan)
    panel.show_stored(demo_plan.number)
    panel.ask_step = answer("张局长")
    panel.approve_button.click()
    warned: list = []
    monkeypatch.setattr(dp.QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    panel.ask_step = answer("张局长", "  ")
    assert panel.change_status(S.VOID) is None
    assert warned == ["未作废：请填写作废原因。"] and panel.plan.status == S.APPROVED
    panel.ask_step = lambda plan, target: None  # the dialog was cancelled
    assert panel.change_status(S.VOID) is None and panel.plan.status == S.APPROVED
    panel.ask_step = answer("张局长", "事件已由市级接管")
    panel.void_button.click()
    assert panel.plan.status == S.VOID and enabled_steps(panel) == set()
    assert panel.plan.approvals[-1].note == "事件已由市级接管"
    assert "事件已由市级接管" in panel.summary.text()


def test_partial_plan_approval_needs_the_confirmation(desk, cancelled_plan) -> None:
    session, panel = desk
    messages: list = []
    session.sig_message.connect(lambda *a: messages.append(a))
    store(session, cancelled_plan)
    panel.show_stored(cancelled_plan.number)
    assert panel.plan.partial and "部分方案" in panel.summary.text()
    assert f"{cancelled_plan.number}　草稿（部分方案）" == panel.stored.itemText(0)
    panel.ask_step = answer("张局长", "", False)
    panel.approve_button.click()
    assert panel.plan.status == S.DRAFT
    level, text, details = messages[-1]
    assert level == "error" and "状态未改变" in text and "须明确确认" in details
    panel.ask_step = answer("张局长", "", True)
    panel.approve_button.click()
    assert panel.plan.status == S.APPROVED and "确认批准部分方案" in panel.plan.approvals[-1].note


def test_step_dialog_shows_the_review_and_asks_to_confirm(qapp, cancelled_plan, demo_plan) -> None:
    dlg = PlanStepDialog(cancelled_plan, S.APPROVED)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    items = review_items(cancelled_plan)
    assert dlg.review.count() == len(items) > 3
    assert [dlg.review.item(i).text() for i in range(dlg.review.count())] == [i.text for i in items]
    assert ok.text() == "批准" and not ok.isEnabled()
    dlg.who.setText("张局长")
    assert not ok.isEnabled()  # a 部分方案: the box must be ticked
    dlg.confirm_partial.setChecked(True)
    assert ok.isEnabled() and dlg.answer() == StepAnswer("张局长", "", True)
    dlg.deleteLater()
    # a complete plan: no confirmation box; 作废 needs its reason
    dlg = PlanStepDialog(demo_plan, S.VOID)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dlg.confirm_partial.isHidden() and dlg.review.count() == 0
    dlg.who.setText("张局长")
    assert not ok.isEnabled()
    dlg.note.setText("重复方案")
    assert ok.isEnabled() and dlg.answer() == StepAnswer("张局长", "重复方案", False)
    dlg.deleteLater()
    qapp.processEvents()


def test_a_held_back_partial_plan_is_shown_only_when_asked(desk, demo_plan, cancelled_plan) -> None:
    """What the dock does when a cancelled run's 部分方案 arrives while a plan is shown (the
    real cancelled run is in tests/test_gui_dispatch.py; here its arrival is replayed)."""
    from gui.controllers.dispatch import RunFinished, ShownPlan

    session, panel = desk
    store(session, demo_plan)
    cancelled_plan_renumbered = renumber(cancelled_plan, demo_plan)
    store(session, cancelled_plan_renumbered)
    panel.show_stored(demo_plan.number)
    asked: list = []
    for choice in (False, True):
        panel.controller.pending = ShownPlan(cancelled_plan_renumbered)
        panel.ask_partial = lambda partial, shown, c=choice: asked.append((partial, shown)) or c
        panel.controller.sig_run_finished.emit(
            RunFinished(cancelled_plan_renumbered, True, 1.0, shown=False)
        )
        assert asked[-1] == (cancelled_plan_renumbered, demo_plan)
        assert panel.controller.pending is None
        expect = cancelled_plan_renumbered if choice else demo_plan
        assert panel.plan == expect
        assert "部分方案" in panel.progress_label.text()


def renumber(plan: Plan, after: Plan) -> Plan:
    from dispatch.plan import next_plan_number
    from dispatch.plan_store import renumbered

    return renumbered(plan, next_plan_number([after.number], "HJ", after.created_at))
