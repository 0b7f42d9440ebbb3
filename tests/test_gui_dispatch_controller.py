"""The dispatch controller without a window or a dock (pytest-qt): a run on the demo county is
stored and shown, Cancel gives the partial plan, a run that outlives a workspace switch is
dropped, the export writes the six files. Runs are solved in a child process (the default)."""

from __future__ import annotations

import shutil
import time

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from dispatch.export.bundle import OUTPUT_FILES  # noqa: E402
from dispatch.plan import PLANS_DOCUMENT_KIND, Plan  # noqa: E402
from dispatch.results import Status  # noqa: E402
from gis.loading import load_road_network  # noqa: E402
from gis.workspace import read_workspace  # noqa: E402
from gis.workspace_service import WorkspaceRef  # noqa: E402
from gui.controllers.dispatch import (  # noqa: E402
    DispatchController,
    ExportDone,
    RunFinished,
    ShownPlan,
)
from gui.plan_layers import route_features  # noqa: E402
from gui.session import RecoveryStore, Session  # noqa: E402
from gui.workers import JobRunner  # noqa: E402

pytestmark = pytest.mark.gui
TIMEOUT_MS = 120_000


@pytest.fixture
def parts(qapp, tmp_path, demo_workspace_path):
    ws_path = tmp_path / "demo.gpkg"
    shutil.copy(demo_workspace_path, ws_path)
    session = Session(recovery=RecoveryStore(tmp_path / "recovery"))
    session.load(read_workspace(ws_path, include_roads=True), WorkspaceRef(path=ws_path))
    session.network = load_road_network(ws_path, session.scenario)
    runner = JobRunner()
    ctl = DispatchController(session, runner)
    yield session, runner, ctl
    ctl.cancel()
    runner.wait(60_000)
    qapp.processEvents()
    session.undo_stack.clear()
    for obj in (ctl, runner, session):
        obj.deleteLater()
    qapp.processEvents()


def _stored(session: Session) -> dict[str, str]:
    return dict(session.documents.get(PLANS_DOCUMENT_KIND, {}))


def test_run_stores_and_shows_the_plan(qtbot, parts):
    session, _runner, ctl = parts
    shown: list[ShownPlan] = []
    busy: list[bool] = []
    progress: list[str] = []
    ctl.sig_plan_shown.connect(shown.append)
    ctl.sig_busy_changed.connect(busy.append)
    ctl.sig_progress.connect(lambda _f, m: progress.append(m))
    request = ctl.request(ctl.options(1, None))
    assert request.workspace is session.ref and request.has_roads  # the typed ref, nothing else
    with qtbot.waitSignal(ctl.sig_run_finished, timeout=TIMEOUT_MS) as blocker:
        assert ctl.run(ctl.options(1, None)) is not None
        assert ctl.busy and ctl.run(ctl.options(1, None)) is None  # one run at a time
    done: RunFinished = blocker.args[0]
    plan = done.plan
    assert not done.cancelled and done.elapsed_s > 0 and not ctl.busy
    assert busy == [True, False] and any("车辆路径" in m for m in progress)
    # stored in the workspace documents (one undoable step), shown with its map payload
    assert Plan.from_json(_stored(session)[plan.number]) == plan
    assert session.undo_stack.undoText().startswith("生成调度方案")
    assert ctl.plan is plan and shown[-1].plan is plan
    assert shown[-1].summary and shown[-1].plan_json == _stored(session)[plan.number]
    assert ctl.routes == route_features(plan) and ctl.routes["features"]
    assert not ctl.stale
    # undo of the run: nothing stored, nothing shown
    session.undo_stack.undo()
    assert ctl.plan is None and shown[-1].plan is None


def test_cancel_gives_the_partial_plan(qtbot, parts):
    session, _runner, ctl = parts
    progress: list[str] = []
    ctl.sig_progress.connect(lambda _f, m: progress.append(m))
    with qtbot.waitSignal(ctl.sig_run_finished, timeout=TIMEOUT_MS) as blocker:
        ctl.run(ctl.options(120, None))
        qtbot.waitUntil(lambda: any("车辆路径" in m for m in progress), timeout=60_000)
        t0 = time.perf_counter()
        ctl.cancel()
    assert time.perf_counter() - t0 < 10.0
    done: RunFinished = blocker.args[0]
    assert done.cancelled and ctl.last_cancelled
    assert done.plan.overall == Status.CANCELLED and done.plan.allocation
    assert ctl.plan is done.plan and done.plan.number in _stored(session)


def test_a_run_outliving_a_workspace_switch_is_dropped(qtbot, parts):
    session, _runner, ctl = parts
    finished: list = []
    ctl.sig_run_finished.connect(finished.append)
    ctl.pin("T1", "I1")
    job = ctl.run(ctl.options(60, None))
    assert job is not None
    with qtbot.waitSignal(ctl.sig_run_dropped, timeout=TIMEOUT_MS):
        session.load(read_workspace(session.path, include_roads=True), session.ref)
        assert job.cancelled and not ctl.pins  # told to stop at once, constraints cleared
    assert not finished and ctl.plan is None and not ctl.busy
    assert PLANS_DOCUMENT_KIND not in session.documents


def test_export_writes_the_six_files(qtbot, parts, tmp_path):
    _session, _runner, ctl = parts
    with qtbot.waitSignal(ctl.sig_run_finished, timeout=TIMEOUT_MS):
        ctl.run(ctl.options(1, None))
    plan = ctl.plan
    assert ctl.exported_pdf() is None
    with qtbot.waitSignal(ctl.sig_exported, timeout=TIMEOUT_MS) as blocker:
        ctl.export(tmp_path / "out", open_pdf=True)
    done: ExportDone = blocker.args[0]
    assert done.open_pdf and done.result.plan_number == plan.number
    assert set(done.result.files) == set(OUTPUT_FILES)
    for name, path in done.result.files.items():
        assert path.parent == tmp_path / "out" and path.stat().st_size > 0, name
    assert Plan.from_json(done.result.files["plan.json"].read_text(encoding="utf-8")) == plan
    assert ctl.exported_pdf() == tmp_path / "out" / "orders.pdf"
    # approving makes a new document version of the same plan: the PDF still belongs to it
    approved = ctl.approve("王指挥")
    assert approved is not None and ctl.exported_pdf() is not None
    assert ctl.approve("李四") is None  # refused by the workflow, reported


def test_a_replan_shows_its_first_complete_plan_then_the_final_one(qtbot, parts):
    """A second run re-plans the shown plan after a closure on a road it drives: its first
    complete plan is shown (not stored) before the final plan replaces it (stored once)."""
    import dataclasses

    from dispatch.replan import closure_on_route

    session, _runner, ctl = parts
    with qtbot.waitSignal(ctl.sig_run_finished, timeout=TIMEOUT_MS):
        ctl.run(ctl.options(1, None))
    current = ctl.plan
    closure = closure_on_route(current)
    session.apply(
        dataclasses.replace(session.scenario, closures=(*session.scenario.closures, closure)),
        "封闭道路",
    )
    assert ctl.request(ctl.options(1, None)).previous_plan is current  # passed explicitly
    shown: list[ShownPlan] = []
    firsts: list[Plan] = []
    ctl.sig_plan_shown.connect(shown.append)
    ctl.sig_first_plan.connect(firsts.append)
    with qtbot.waitSignal(ctl.sig_run_finished, timeout=TIMEOUT_MS) as blocker:
        ctl.run(ctl.options(2, None))
    final: Plan = blocker.args[0].plan
    assert len(firsts) == 1 and firsts[0].number == final.number
    assert [s.plan.inputs.previous_plan for s in shown] == [current.number] * 2
    assert shown[0].plan == firsts[0] and shown[0].routes["features"]  # complete, with its map
    assert "相对方案" in shown[0].summary
    assert shown[-1].plan is final and ctl.plan is final
    assert final.inputs.first_plan_s > 0 and final.inputs.changes
    # one stored plan per run: the first plan was only shown
    assert sorted(_stored(session)) == sorted({current.number, final.number})
