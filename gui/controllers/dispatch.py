"""The dispatch controller: run / cancel, stored plans, pins and forbids, approve, export.

State machine (all on the GUI thread; jobs run on threads, a solve in a child process):

1. :meth:`DispatchController.run` builds a :class:`dispatch.service.DispatchRequest` from the
   session (its scenario, its typed :class:`~gis.workspace_service.WorkspaceRef`
   ``session.ref``, its road network) and the options, and starts
   :func:`gui.services.dispatch_jobs.run_job`. One run at a time.
2. :meth:`cancel` asks the run to stop; it still delivers its best plan (``cancelled``).
3. When the run ends and no other workspace was opened since (the workspace generation), the
   plan is stored in the workspace documents (one undoable step) and shown
   (``sig_plan_shown``); otherwise it is dropped (``sig_run_dropped``). A 部分方案 (a cancelled
   or timed-out run) does not replace a plan already shown: it is stored, marked, and held in
   :attr:`DispatchController.pending` until the operator chooses :meth:`show_pending` or
   :meth:`keep_current` (``RunFinished.shown`` is False then). A run re-plans the
   shown plan (``DispatchRequest.previous_plan``): its first complete plan is shown as soon as
   it exists (``sig_first_plan``; not stored, nothing half-built is ever shown) and replaced
   by the final plan when the run ends. Runs are solved in one :class:`dispatch.worker.
   DispatchWorker` process kept for the controller's lifetime (imports and road network loaded
   once), so a re-plan's first plan is on screen about as fast as the solver finds it.
4. Undo/redo of the plans document shows what the documents now hold; opening another workspace
   cancels a run, clears the constraints and the last export, and shows its latest stored plan.

Status steps (:meth:`change_status`, :meth:`approve`: 批准 / 下达 / 开始执行 / 完成 / 退回 / 作废)
go through the plan's workflow and are records, not edits: stored with
:meth:`gui.session.Session.record` (outside the undo stack; Ctrl+Z leaves them) and written to
the event log. Export writes the six files
(:func:`gui.services.dispatch_jobs.export_job`); "Open PDF" is for the plan that was exported.
The controller never touches a widget: the dock (:mod:`gui.docks.dispatch_panel`) shows it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, Qt, pyqtSignal

from dispatch.options import DispatchOptions
from dispatch.plan import (
    PLANS_DOCUMENT_KIND,
    Plan,
    PlanStatusError,
    scenario_hash,
    step_log_entry,
    with_plan,
)
from dispatch.records import PlanStatus
from dispatch.service import HARD_STOP_S, DispatchProcessError, DispatchRequest
from dispatch.worker import DispatchWorker
from gis.model import Scenario
from gui.i18n import tr
from gui.plan_layers import route_features
from gui.services.dispatch_jobs import (
    ExportRequest,
    ExportResult,
    RunRequest,
    RunResult,
    export_job,
    preload_job,
    preload_modules,
    run_job,
)
from gui.session import Session
from gui.workers import Job, JobRunner, RunFn

log = logging.getLogger(__name__)

Pair = tuple[str, str]


@dataclass(frozen=True)
class ShownPlan:
    """The plan the desk shows (None: none) with what is shown of it.

    ``summary`` None: the overview text is computed by the view; ``routes``: the map payload.
    """

    plan: Plan | None
    plan_json: str | None = None
    summary: str | None = None
    routes: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RunFinished:
    """A run's plan was stored; ``elapsed_s``: wall time of the job. ``shown`` False: it is a
    部分方案 held back (:attr:`DispatchController.pending`), the plan shown before stays."""

    plan: Plan
    cancelled: bool
    elapsed_s: float
    shown: bool = True


@dataclass(frozen=True)
class ExportDone:
    """An export finished; ``open_pdf``: the caller asked to open the PDF afterwards."""

    result: ExportResult
    open_pdf: bool


def process_error_text(exc: DispatchProcessError) -> str:
    """The translated message of a child that died or was killed (else its own message)."""
    if exc.kind == "killed":
        return tr("计算进程在取消后 {s:.0f} 秒内未返回，已强制终止").format(s=HARD_STOP_S)
    if exc.kind == "died":
        return tr("计算进程意外退出（退出码 {code}）").format(code=exc.exitcode)
    return str(exc)


def worded(fn: RunFn) -> RunFn:
    """``fn`` with child-process errors translated (in the job's thread); its progress texts
    are translated by the job itself (:func:`gui.i18n.tr_progress`)."""

    def run(data: Any, *, stop: Any, progress: Any) -> Any:
        try:
            return fn(data, stop=stop, progress=progress)
        except DispatchProcessError as exc:
            raise DispatchProcessError(
                process_error_text(exc), exc.details, kind=exc.kind, exitcode=exc.exitcode
            ) from exc

    return run


class DispatchController(QObject):
    """Owns the dispatch state of a :class:`Session`: the shown plan, the run, the constraints."""

    #: a run started (True) / ended (False)
    sig_busy_changed = pyqtSignal(bool)
    #: progress of the run (fraction 0..1, translated text)
    sig_progress = pyqtSignal(float, str)
    #: Cancel was asked for
    sig_cancelling = pyqtSignal()
    #: a plan is shown (ShownPlan)
    sig_plan_shown = pyqtSignal(object)
    #: a run's plan was stored and shown (RunFinished)
    sig_run_finished = pyqtSignal(object)
    #: a re-plan's first complete plan is shown while the run improves it (Plan)
    sig_first_plan = pyqtSignal(object)
    #: (internal) a first plan arrived from the job's thread: (workspace generation, RunResult)
    _sig_first_ready = pyqtSignal(object)
    #: a run failed (message, details)
    sig_run_failed = pyqtSignal(str, str)
    #: a run of a workspace no longer open ended; its plan was dropped
    sig_run_dropped = pyqtSignal()
    #: the pins / forbids changed
    sig_constraints_changed = pyqtSignal()
    #: the plan list of the workspace changed (stored plan numbers may differ)
    sig_stored_changed = pyqtSignal()
    #: an export finished (ExportDone) / failed (message, details)
    sig_exported = pyqtSignal(object)
    sig_export_failed = pyqtSignal(str, str)
    #: (level 'info'|'warning'|'error', text, details) for the message panel
    sig_message = pyqtSignal(str, str, str)

    def __init__(
        self, session: Session, runner: JobRunner, *, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.shown = ShownPlan(None, routes=route_features(None))
        self.pins: set[Pair] = set()
        self.forbids: set[Pair] = set()
        self.job: Job | None = None
        self.last_cancelled = False
        self.last_run_s = 0.0
        self.last_export: ExportResult | None = None
        #: a 部分方案 stored but not shown (the operator chooses: show it or keep the current)
        self.pending: ShownPlan | None = None
        #: the plan shown when the last run started (see :meth:`run`)
        self._before_run: ShownPlan | None = None
        #: solve in a spawned child process (True) or in a background thread of this process
        self.in_child = True
        #: the child process runs are solved in, kept between runs (closed with the controller)
        self.worker = DispatchWorker()
        worker = self.worker
        self.destroyed.connect(lambda *_: worker.close())
        self.preload_started = False
        self._hash_cache: tuple[Scenario, str] | None = None
        #: where runs take their scenario from instead of the session (a drill on the desk:
        #: the drill's state, :mod:`gui.controllers.drill`); None = the session's
        self.scenario_source: Callable[[], Scenario] | None = None
        #: makes each run's request the drill's when set (a manual drill on the desk:
        #: :meth:`dispatch.drills.session.DrillSession.replan_request`, vehicles tracked)
        self.request_source: Callable[[DispatchRequest], DispatchRequest] | None = None
        #: bumped when another workspace is opened: a run started before is then dropped
        self._workspace_gen = 0
        session.sig_documents_changed.connect(self._on_documents_changed)
        session.sig_workspace_loaded.connect(self._on_workspace_loaded)
        self._sig_first_ready.connect(self._on_first, Qt.ConnectionType.QueuedConnection)

    # ---- state read by the views -----------------------------------------------------------

    @property
    def plan(self) -> Plan | None:
        return self.shown.plan

    @property
    def routes(self) -> Mapping[str, Any]:
        return self.shown.routes or route_features(None)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def current_scenario(self) -> Scenario:
        """The scenario a run plans: the session's, or :attr:`scenario_source`'s when set."""
        source = self.scenario_source
        return source() if source is not None else self.session.scenario

    def scenario_hash(self) -> str:
        """Content hash of the scenario runs plan now (cached per scenario object)."""
        scenario = self.current_scenario()
        if self._hash_cache is None or self._hash_cache[0] is not scenario:
            self._hash_cache = (scenario, scenario_hash(scenario))
        return self._hash_cache[1]

    @property
    def stale(self) -> bool:
        """The shown plan was made from a scenario other than the session's."""
        plan = self.plan
        return plan is not None and plan.inputs.scenario_hash != self.scenario_hash()

    def exported_pdf(self) -> Path | None:
        """The orders PDF exported for the plan shown now (None for another plan's export)."""
        exp = self.last_export
        if exp is None or self.plan is None or exp.plan_number != self.plan.number:
            return None
        return exp.files.get("orders.pdf")

    # ---- running ---------------------------------------------------------------------------

    def preload(self) -> Job | None:
        """Import the modules plans and exports need in a background job, once."""
        if self.preload_started:
            return None
        self.preload_started = True
        return self.runner.start(
            tr("预加载求解器"), preload_job, preload_modules(self.in_child), show=False
        )

    def options(
        self, seconds: float, engine: str | None, *, hard_deadlines: bool = False
    ) -> DispatchOptions:
        """The :class:`DispatchOptions` of the next run (time limit, engine, deadline mode, pins,
        forbids)."""
        return DispatchOptions(
            seconds=float(seconds),
            engine=engine or None,
            hard_deadlines=bool(hard_deadlines),
            existing_numbers=tuple(self.session.documents.get(PLANS_DOCUMENT_KIND, {})),
            pins=tuple(sorted(self.pins)),
            forbids=tuple(sorted(self.forbids)),
        )

    def request(self, options: DispatchOptions) -> DispatchRequest:
        """The run of the session's state: the workspace only as the typed ``session.ref``; the
        shown plan (if any) is the plan it re-plans."""
        s = self.session
        request = DispatchRequest(
            scenario=self.current_scenario(),
            options=options,
            workspace=s.ref,
            has_roads=s.has_roads,
            network=s.network,
            previous_plan=self.plan,
        )
        source = self.request_source
        return source(request) if source is not None else request

    def run(self, options: DispatchOptions) -> Job | None:
        """Start a run in the background; returns the job (None if one runs or nothing to do)."""
        if self.job is not None:
            return None
        if not self.current_scenario().open_incidents():
            self._message("warning", tr("没有进行中的事件，无需调度"))
            return None
        request = RunRequest(self.request(options), in_child=self.in_child)
        gen = self._workspace_gen
        self.last_cancelled = False
        self._before_run = self.shown  # a held-back 部分方案 brings it back (see _on_done)
        job = self.runner.start(
            tr("生成调度方案"),
            worded(
                functools.partial(
                    run_job,
                    on_first=lambda r: self._sig_first_ready.emit((gen, r)),
                    worker=self.worker,
                )
            ),
            request,
            on_done=lambda r, c: self._on_done(r, c, gen, request),
            on_error=self._on_failed,
        )
        job.sig_progress.connect(self.sig_progress)
        self.job = job
        self.sig_busy_changed.emit(True)
        return job

    def cancel(self) -> None:
        """Ask the running job to stop; it delivers the best plan found so far."""
        if self.job is not None:
            self.job.cancel()
            self.sig_cancelling.emit()

    def _on_done(self, result: RunResult, cancelled: bool, gen: int, request: RunRequest) -> None:
        job, self.job = self.job, None
        self.last_run_s = float(job.elapsed_s) if job is not None else 0.0
        self.last_cancelled = bool(cancelled)
        self.sig_busy_changed.emit(False)
        if gen != self._workspace_gen:
            self.sig_run_dropped.emit()
            return
        outcome = result.outcome
        plan = outcome.plan
        self._hash_cache = (request.dispatch.scenario, outcome.scenario_hash)
        shown = ShownPlan(plan, outcome.plan_json, outcome.summary, result.routes)
        before = self._before_run
        # a re-plan's first plan may have been shown meanwhile: the 部分方案 question is about
        # the plan the operator had before the run
        if (
            plan.partial
            and before is not None
            and before.plan is not None
            and self.shown is not before
        ):
            self._show(before)
        hold = plan.partial and self.plan is not None
        self.pending = shown if hold else None
        if not hold:
            self.shown = shown  # the document handler then sees the shown plan stored unchanged
        self._store(plan, tr("生成调度方案 {no}").format(no=plan.number), outcome.plan_json)
        if not hold:
            self._show(shown)
        self._message(
            "warning" if plan.partial or plan.unserved else "info",
            tr("调度方案 {no}：{status}，未满足 {n} 项").format(
                no=plan.number, status=tr(plan.overall.label_zh), n=len(plan.unserved)
            ),
        )
        if hold:
            self._message(
                "warning",
                tr("部分方案 {no} 已保存，地图仍显示当前方案 {cur}").format(
                    no=plan.number, cur=self.plan.number if self.plan else ""
                ),
            )
        self.sig_run_finished.emit(
            RunFinished(plan, bool(cancelled), self.last_run_s, shown=not hold)
        )

    def show_pending(self) -> Plan | None:
        """Show the 部分方案 held back after a cancelled run (the operator asked for it)."""
        pending, self.pending = self.pending, None
        if pending is None or pending.plan is None:
            return None
        if pending.plan.number not in self.stored_plans():  # e.g. its run was undone since
            return None
        self._show(pending)
        return pending.plan

    def keep_current(self) -> None:
        """Keep the plan shown; the 部分方案 stays stored (in the plan list)."""
        self.pending = None

    def _on_first(self, payload: tuple[int, RunResult]) -> None:
        """Show a re-plan's first complete plan (not stored: the final plan replaces it)."""
        gen, result = payload
        if gen != self._workspace_gen or self.job is None:
            return  # another workspace, or the run already ended with its final plan
        outcome = result.outcome
        self._show(ShownPlan(outcome.plan, outcome.plan_json, outcome.summary, result.routes))
        first_s = outcome.plan.inputs.first_plan_s or 0.0
        self._message(
            "info",
            tr("首个完整方案已显示（{s:.1f} 秒），继续优化…").format(s=first_s),
        )
        self.sig_first_plan.emit(outcome.plan)

    def _on_failed(self, message: str, details: str) -> None:
        self.job = None
        self.sig_busy_changed.emit(False)
        self._message("error", tr("调度计算失败：{m}").format(m=message), details)
        self.sig_run_failed.emit(message, details)

    # ---- showing and storing plans -----------------------------------------------------------

    def show(
        self,
        plan: Plan | None,
        *,
        plan_json: str | None = None,
        summary: str | None = None,
        routes: Mapping[str, Any] | None = None,
    ) -> None:
        """Show ``plan`` (None clears); the map payload is computed when not given."""
        self._show(
            ShownPlan(
                plan, plan_json, summary, routes if routes is not None else route_features(plan)
            )
        )

    def _show(self, shown: ShownPlan) -> None:
        self.shown = shown
        self.sig_plan_shown.emit(shown)

    def stored_plans(self) -> dict[str, str]:
        """Plan number → document text of the plans stored in the workspace."""
        return dict(self.session.documents.get(PLANS_DOCUMENT_KIND, {}))

    def show_stored(self, number: str) -> Plan | None:
        """Show a plan stored in the workspace documents (a damaged one is reported)."""
        text = self.stored_plans().get(number)
        if text is None:
            return None
        try:
            plan = Plan.from_json(text)
        except Exception as exc:  # a damaged document is reported, not fatal
            self._message("error", tr("无法读取方案 {no}").format(no=number), str(exc))
            return None
        self.show(plan, plan_json=text)
        return plan

    def _show_latest(self) -> None:
        stored = sorted(self.stored_plans())
        if stored:
            self.show_stored(stored[-1])
        else:
            self.show(None)

    def _store(self, plan: Plan, text: str, plan_json: str | None = None) -> None:
        """Store ``plan`` in the workspace documents (one undoable step)."""
        if plan_json is None:
            docs = with_plan(self.session.documents, plan)
        else:
            docs = {str(k): dict(v) for k, v in self.session.documents.items()}
            docs.setdefault(PLANS_DOCUMENT_KIND, {})[plan.number] = plan_json
        self.session.apply(self.session.scenario, text, documents=docs)

    def _on_documents_changed(self, kind: str) -> None:
        if kind != PLANS_DOCUMENT_KIND:
            return
        plan = self.plan
        if plan is not None:
            text = self.stored_plans().get(plan.number)
            if text is None:  # e.g. undo of the run that made it
                self._show_latest()
                return
            if self.shown.plan_json is None:
                self.shown = ShownPlan(
                    plan, plan.to_json(indent=None), self.shown.summary, self.shown.routes
                )
            if text != self.shown.plan_json:  # e.g. undo of an approval
                self.show_stored(plan.number)
                return
        self.sig_stored_changed.emit()

    def _on_workspace_loaded(self) -> None:
        self._workspace_gen += 1
        if self.job is not None:
            self.job.cancel()
        self.pins.clear()
        self.forbids.clear()
        self.last_export = None
        self.pending = None
        self.sig_constraints_changed.emit()
        self._show_latest()

    # ---- pins and forbids --------------------------------------------------------------------

    def pin(self, team_id: str, incident_id: str) -> None:
        """Pin ``team_id`` to ``incident_id`` for the next run (a team has one pin at most)."""
        self.pins = {p for p in self.pins if p[0] != team_id}
        self.pins.add((team_id, incident_id))
        self.forbids.discard((team_id, incident_id))
        self.sig_constraints_changed.emit()

    def forbid(self, team_id: str, incident_id: str) -> None:
        """Forbid sending ``team_id`` to ``incident_id`` in the next run."""
        self.forbids.add((team_id, incident_id))
        self.pins.discard((team_id, incident_id))
        self.sig_constraints_changed.emit()

    def clear_constraints(self) -> None:
        self.pins.clear()
        self.forbids.clear()
        self.sig_constraints_changed.emit()

    # ---- approve / export --------------------------------------------------------------------

    def change_status(
        self,
        to: PlanStatus | str,
        name: str,
        note: str = "",
        *,
        allow_partial: bool = False,
    ) -> Plan | None:
        """Move the shown plan to ``to`` as ``name`` (now): a record, not an undoable edit.

        Refused steps are reported (``sig_message``) and return None.
        """
        shown = self.plan
        if shown is None:
            return None
        try:
            target = PlanStatus(to)
            plan = shown.transition(
                target, name, datetime.now().astimezone(), note, allow_partial=allow_partial
            )
        except (PlanStatusError, ValueError) as exc:
            self._message(
                "error",
                tr("方案 {no} 状态未改变").format(no=shown.number),
                str(exc),
            )
            return None
        step = plan.approvals[-1]
        plan_json = plan.to_json(indent=None)
        self.shown = ShownPlan(plan, plan_json, None, self.shown.routes)
        self.session.record(
            PLANS_DOCUMENT_KIND, plan.number, plan_json, log=step_log_entry(shown, plan)
        )
        self.show(plan, plan_json=plan_json)
        self._message(
            "info",
            tr("方案 {no}：{action}（{who}）").format(
                no=plan.number, action=tr(step.action), who=step.who
            ),
        )
        return plan

    def approve(self, name: str, note: str = "", *, allow_partial: bool = False) -> Plan | None:
        """Approve the shown plan as ``name`` (a 部分方案 needs ``allow_partial``)."""
        return self.change_status(PlanStatus.APPROVED, name, note, allow_partial=allow_partial)

    def export(
        self, folder: Path, *, open_pdf: bool = False, language: str = "zh_CN"
    ) -> Job | None:
        """Write the shown plan's files into ``folder`` in the background (``language``: of
        the files that have one; Chinese for the teams by default, whatever the UI language)."""
        plan = self.plan
        if plan is None:
            return None
        folder = Path(folder)

        def done(result: ExportResult, _cancelled: bool) -> None:
            self.last_export = result
            self._message("info", tr("已导出方案 {no} 到 {dir}").format(no=plan.number, dir=folder))
            self.sig_exported.emit(ExportDone(result, open_pdf))

        def failed(message: str, details: str) -> None:
            self._message("error", tr("导出失败 {dir}：{m}").format(dir=folder, m=message), details)
            self.sig_export_failed.emit(message, details)

        return self.runner.start(
            tr("导出调度指令"),
            worded(export_job),
            ExportRequest(plan, folder, language),
            on_done=done,
            on_error=failed,
            critical=True,
        )

    # ---- misc ----------------------------------------------------------------------------------

    def _message(self, level: str, text: str, details: str = "") -> None:
        (log.warning if level == "error" else log.info)("%s", text)
        self.sig_message.emit(level, text, details)


__all__ = [
    "DispatchController",
    "ExportDone",
    "RunFinished",
    "ShownPlan",
    "process_error_text",
    "worded",
]
