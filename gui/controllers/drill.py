"""The drill controller (演练): drill scripts in the workspace and a drill run, as signals.

No widgets here: the 演练 dock (:mod:`gui.docks.drill_panel`) shows what this holds.

- **Scripts** are workspace documents (:mod:`dispatch.drills.store`: kind ``drill_scripts``,
  one row per script in the CLI's JSON format). Every edit (new, import, header, add / edit /
  delete an inject, delete the script) is one undoable session step; the file is written only
  when the user saves the workspace. Import / export use the file format of
  ``app.py drill --script``.
- **A run** is a :class:`dispatch.drills.session.DrillSession` over a copy of the session's
  scenario: a :class:`QTimer` moves its clock while playing; an inject fires and the drill's
  scenario is emitted for the map (``sig_drill_scenario``; None = show the session's again),
  never pushed into the session. 自动: the step is re-planned through the dispatch service
  (the dispatch controller's kept child process, as the 调度方案 dock runs: no solver code on
  the GUI thread) and issued by 演练自动 (:func:`dispatch.drills.runner.issue_auto`); Cancel
  keeps the best plan so far. 人工: while the run lasts the dispatch controller plans the
  drill's scenario (:attr:`DispatchController.scenario_source`) and each run is the drill's
  re-plan (:attr:`DispatchController.request_source` =
  :meth:`dispatch.drills.session.DrillSession.replan_request`: at the simulated time, from the
  plan in force, vehicles continuing from where they are, as 自动 and the CLI); the first plan
  approved after an inject (or, before the first inject, the baseline) closes its step; the
  wall time from the inject to that approval is the step's.
- **Report**: :func:`dispatch.drills.cli.write_drill` (the CLI's writer: drill.json, plans per
  step, PDF, XLSX) in a background job.
"""

from __future__ import annotations

import copy
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from dispatch.drills.cli import write_drill
from dispatch.drills.runner import issue_auto
from dispatch.drills.script import DrillScriptError, parse_script
from dispatch.drills.session import DrillSession
from dispatch.drills.store import (
    DRILL_SCRIPTS_KIND,
    new_key,
    read_script_file,
    row_problems,
    sorted_injects,
    stored_scripts,
    with_script,
    write_script_file,
)
from dispatch.service import DispatchRequest
from gis.errors import ReliefDeskError
from gui.controllers.dispatch import DispatchController, ShownPlan
from gui.i18n import tr
from gui.services.dispatch_jobs import RunRequest, RunResult, run_job
from gui.session import Session
from gui.workers import Job, JobRunner

log = logging.getLogger(__name__)

#: how often the simulated clock is moved while playing (ms)
TICK_MS = 200


class DrillController(QObject):
    """Drill scripts of the session's workspace and one drill run (see the module doc)."""

    #: the stored scripts or the current script changed
    sig_scripts_changed = pyqtSignal()
    #: the run changed (clock, step, log, scorecard)
    sig_run_changed = pyqtSignal()
    #: the scenario the map should show (a drill's state; None: the session's again)
    sig_drill_scenario = pyqtSignal(object)
    #: route features of an automatic plan (GeoJSON FeatureCollection)
    sig_routes = pyqtSignal(object)
    sig_replan_busy = pyqtSignal(bool)
    sig_replan_progress = pyqtSignal(float, str)
    #: report written: the folder
    sig_exported = pyqtSignal(object)
    #: (level 'info'|'warning'|'error', text, details) for the message panel
    sig_message = pyqtSignal(str, str, str)

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        dispatch: DispatchController | None = None,
        *,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.dispatch = dispatch
        self.key: str | None = None
        self.drill: DrillSession | None = None
        #: the last run stopped (its steps, log and scorecard stay visible)
        self.finished_run: DrillSession | None = None
        self.job: Job | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._last_tick = 0.0
        self._problems: tuple[str | None, Any, tuple[dict[int, str], str]] | None = None
        session.sig_documents_changed.connect(self._on_documents_changed)
        session.sig_workspace_loaded.connect(self._on_workspace_loaded)
        if dispatch is not None:
            dispatch.sig_plan_shown.connect(self._on_plan_shown)
        self._pick_first()

    # ---- scripts ---------------------------------------------------------------------------

    def scripts(self) -> dict[str, dict[str, Any]]:
        return stored_scripts(self.session.documents)

    def data(self) -> dict[str, Any] | None:
        """The current script's raw data (a copy), None when there is none."""
        if self.key is None:
            return None
        data = self.scripts().get(self.key)
        return None if data is None else copy.deepcopy(data)

    def select(self, key: str | None) -> None:
        if key != self.key:
            self.key = key if key in self.scripts() else None
            self.sig_scripts_changed.emit()

    def problems(self) -> tuple[dict[int, str], str]:
        """Per inject row the message of :func:`dispatch.drills.script.parse_script` (kept
        while neither the script nor the scenario changed: the dock asks on every tick)."""
        text = (self.session.documents.get(DRILL_SCRIPTS_KIND) or {}).get(self.key or "")
        scenario = self.session.scenario
        cached = self._problems
        if cached is not None and cached[0] == text and cached[1] is scenario:
            return cached[2]
        data = self.data()
        found = ({}, "") if data is None else row_problems(data, scenario)
        self._problems = (text, scenario, found)
        return found

    def new_script(self, name: str, start: datetime) -> str:
        data = {"name": name.strip() or tr("演练"), "start": start.isoformat(), "injects": []}
        key = new_key(self.session.documents, data["name"])
        self._store(key, data, tr("新建演练脚本 {name}").format(name=data["name"]))
        return key

    def import_file(self, path: Path) -> str | None:
        """A script file (the CLI's format) added to the workspace; None (and a message) if it
        cannot be read. A script with wrong injects is imported and its rows marked."""
        try:
            data = read_script_file(path)
        except DrillScriptError as exc:
            self._message("error", tr("无法导入演练脚本"), str(exc))
            return None
        name = str(data.get("name") or Path(path).stem)
        key = new_key(self.session.documents, name)
        self._store(key, data, tr("导入演练脚本 {name}").format(name=name))
        problems, general = self.problems()
        if problems or general:
            self._message(
                "warning",
                tr("演练脚本 {name} 有 {n} 处问题，见时间线").format(
                    name=name, n=len(problems) + bool(general)
                ),
            )
        return key

    def export_file(self, path: Path) -> bool:
        data = self.data()
        if data is None:
            return False
        try:
            write_script_file(path, data)
        except OSError as exc:
            self._message("error", tr("无法导出演练脚本"), f"{path}: {exc}")
            return False
        return True

    def delete_script(self) -> None:
        if self.key is None:
            return
        key, self.key = self.key, None
        docs = with_script(self.session.documents, key, None)
        self.session.apply(
            self.session.scenario, tr("删除演练脚本 {name}").format(name=key), documents=docs
        )
        self._pick_first()

    def set_header(self, name: str, start: datetime) -> None:
        data = self.data()
        if data is None:
            return
        data["name"], data["start"] = name.strip() or data.get("name", ""), start.isoformat()
        self._store(self.key, data, tr("编辑演练脚本 {name}").format(name=data["name"]))

    def add_inject(self, raw: dict[str, Any]) -> None:
        data = self.data()
        if data is None:
            return
        data["injects"] = [*data.get("injects", []), raw]
        self._store(self.key, sorted_injects(data), tr("添加演练插入"))

    def replace_inject(self, row: int, raw: dict[str, Any]) -> None:
        data = self.data()
        if data is None or not 0 <= row < len(data.get("injects", [])):
            return
        data["injects"][row] = raw
        self._store(self.key, sorted_injects(data), tr("编辑演练插入"))

    def remove_inject(self, row: int) -> None:
        data = self.data()
        if data is None or not 0 <= row < len(data.get("injects", [])):
            return
        del data["injects"][row]
        self._store(self.key, data, tr("删除演练插入"))

    def _store(self, key: str | None, data: dict[str, Any], text: str) -> None:
        assert key is not None
        self.key = key
        docs = with_script(self.session.documents, key, data)
        self.session.apply(self.session.scenario, text, documents=docs)

    def _pick_first(self) -> None:
        keys = sorted(self.scripts())
        if self.key not in keys:
            self.key = keys[0] if keys else None
        self.sig_scripts_changed.emit()

    def _on_documents_changed(self, kind: str) -> None:
        if kind == DRILL_SCRIPTS_KIND:
            self._pick_first()  # undo/redo may have removed the current script

    def _on_workspace_loaded(self) -> None:
        self.stop_run()
        self.key = None
        self._pick_first()

    # ---- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.drill is not None

    def start_run(self, *, auto: bool, seconds_per_step: float = 2.0, seed: int = 0) -> bool:
        """Start the current script on a copy of the session's scenario (False and a message
        when the script cannot run: nothing starts)."""
        data = self.data()
        if data is None or self.drill is not None:
            return False
        try:
            script = parse_script(data, self.session.scenario)
        except ReliefDeskError as exc:
            self._message("error", tr("演练脚本不能运行"), str(exc))
            return False
        existing = tuple(self.session.documents.get("plans", {}))
        self.finished_run = None
        self.drill = DrillSession(
            self.session.scenario,
            script,
            auto=auto,
            seconds_per_step=seconds_per_step,
            seed=seed,
            existing_numbers=existing,
        )
        if not auto and self.dispatch is not None:
            self.dispatch.scenario_source = self.drill.view
            self.dispatch.request_source = self.drill.replan_request
        self.drill.start()
        self.sig_drill_scenario.emit(self.drill.state)
        self._after_change()
        return True

    def stop_run(self) -> None:
        """End the run (its steps stay for the scorecard until the next start); the map shows
        the session's scenario again."""
        if self.drill is None:
            return
        self.timer.stop()
        if self.job is not None:
            self.job.cancel()
        if self.dispatch is not None:
            self.dispatch.scenario_source = None
            self.dispatch.request_source = None
        self.drill.pause()
        self.finished_run = self.drill
        self.drill = None
        self.sig_drill_scenario.emit(None)
        self.sig_run_changed.emit()

    @property
    def shown_run(self) -> DrillSession | None:
        """The run the dock shows: the one running, else the last one stopped."""
        return self.drill or self.finished_run

    def play(self) -> None:
        if self.drill is None:
            return
        self.drill.play()
        self._last_tick = time.perf_counter()
        self.timer.start()
        self.sig_run_changed.emit()

    def pause(self) -> None:
        if self.drill is None:
            return
        self.drill.pause()
        self.timer.stop()
        self.sig_run_changed.emit()

    def set_speed(self, factor: float) -> None:
        if self.drill is not None:
            self.drill.set_speed(factor)
            self.sig_run_changed.emit()

    def step(self) -> None:
        """Jump to the next inject and fire it."""
        if self.drill is None:
            return
        inject = self.drill.step()
        if inject is not None:
            self._fired()
        self.sig_run_changed.emit()

    def advance(self, wall_s: float) -> None:
        """Move the clock as the timer does (tests call it with a chosen wall time)."""
        if self.drill is None:
            return
        if self.drill.advance(wall_s) is not None:
            self._fired()
        if self.drill is not None and not self.drill.playing:
            self.timer.stop()
        self.sig_run_changed.emit()

    def _tick(self) -> None:
        now = time.perf_counter()
        dt, self._last_tick = now - self._last_tick, now
        self.advance(dt)

    def continue_without_plan(self) -> None:
        """Close the awaited step without a new plan (the operator's decision, logged)."""
        if self.drill is None or self.drill.awaiting is None or self.job is not None:
            return
        self.drill.record_plan(None, manual=True)
        self._after_change()

    def cancel_replan(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _fired(self) -> None:
        assert self.drill is not None
        self.sig_drill_scenario.emit(self.drill.state)
        self._after_change()

    def _after_change(self) -> None:
        drill = self.drill
        if drill is not None and drill.auto and drill.awaiting is not None and self.job is None:
            self._start_replan()
        self.sig_run_changed.emit()

    def _start_replan(self) -> None:
        drill = self.drill
        assert drill is not None
        req = drill.auto_request()
        s = self.session
        dispatch = DispatchRequest(
            scenario=req.view,
            options=req.options,
            workspace=s.ref,
            has_roads=s.has_roads,
            network=s.network,
            previous_plan=req.previous,
            track_fleet=True,  # vehicles continue from where they are, as in the CLI
        )
        in_child = self.dispatch.in_child if self.dispatch is not None else False
        worker = self.dispatch.worker if self.dispatch is not None else None
        number = req.number
        job = self.runner.start(
            tr("演练自动调度（第 {n} 步）").format(n=number),
            lambda data, *, stop, progress: run_job(
                data, stop=stop, progress=progress, worker=worker
            ),
            RunRequest(dispatch, in_child=in_child),
            on_done=lambda r, c: self._on_replanned(drill, req, r, c),
            on_error=lambda m, d: self._on_replan_failed(drill, m, d),
        )
        job.sig_progress.connect(self.sig_replan_progress)
        self.job = job
        self.sig_replan_busy.emit(True)

    def _on_replanned(
        self, drill: DrillSession, req: Any, result: RunResult, cancelled: bool
    ) -> None:
        job, self.job = self.job, None
        self.sig_replan_busy.emit(False)
        if drill is not self.drill or drill.awaiting != req.number:
            return  # the run was stopped meanwhile
        at = req.options.created_at
        plan = issue_auto(result.plan, at, number=req.number, inject=req.inject)
        drill.record_plan(plan, manual=False, wall_s=job.elapsed_s if job else None)
        self.sig_routes.emit(result.routes)
        if cancelled:
            self._message(
                "warning",
                tr("演练第 {n} 步的自动调度已取消，采用当前最优方案 {no}").format(
                    n=req.number, no=plan.number
                ),
            )
        self._after_change()

    def _on_replan_failed(self, drill: DrillSession, message: str, details: str) -> None:
        self.job = None
        self.sig_replan_busy.emit(False)
        self._message("error", tr("演练自动调度失败：{m}").format(m=message), details)
        self.sig_run_changed.emit()

    def _on_plan_shown(self, shown: ShownPlan) -> None:
        """By hand: the first plan approved after an inject, made for the drill's scenario as
        it is since that inject, closes its step."""
        drill = self.drill
        plan = shown.plan
        if drill is None or drill.auto or plan is None or not drill.accepts(plan):
            return
        if self.dispatch is not None and plan.inputs.scenario_hash != self.dispatch.scenario_hash():
            return  # made before the inject (another scenario): not this step's plan
        drill.record_plan(plan, manual=True)
        self._after_change()

    # ---- report ----------------------------------------------------------------------------

    def export_report(self, folder: Path) -> Job | None:
        """Write the shown run's drill.json, plans per step, report.pdf and report.xlsx."""
        run = self.shown_run
        if run is None or not run.steps:
            self._message("warning", tr("还没有可导出的演练步骤"))
            return None
        steps = tuple(run.steps)
        how = (
            "桌面演练：自动调度（每步 {s:g} 秒）"
            if run.auto
            else "桌面演练：人工调度，步骤用时为插入至方案批准的墙钟时间"
        ).format(s=run.seconds_per_step)
        workspace = str(self.session.path or "")
        network = self.session.network  # the report's maps per step

        def write(_data: Any, *, stop: Any, progress: Any) -> Path:
            write_drill(
                folder,
                run.script,
                steps,
                workspace=workspace,
                script=self.key or run.script.name,
                auto=run.auto,
                seconds_per_step=run.seconds_per_step,
                seed=run.seed,
                notes=(how,),
                network=network,
            )
            return folder

        return self.runner.start(
            tr("导出演练报告"),
            write,
            None,
            on_done=lambda r, _c: self.sig_exported.emit(r),
            on_error=lambda m, d: self._message(
                "error", tr("演练报告导出失败：{m}").format(m=m), d
            ),
            critical=True,
        )

    def _message(self, level: str, text: str, details: str = "") -> None:
        log.info("%s: %s", level, text)
        self.sig_message.emit(level, text, details)


__all__ = ["TICK_MS", "DrillController"]
