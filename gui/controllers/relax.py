"""Controller of "怎样可以满足？": runs :func:`gui.services.relax_jobs.relax_job` for the plan the
dispatch controller shows, on its job runner (cancellable from the status bar), and emits the
report. Qt glue only; the search is :mod:`dispatch.relax`.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal

from dispatch.options import DispatchOptions
from dispatch.relax_service import RelaxRequest
from gui.controllers.dispatch import DispatchController, worded
from gui.i18n import tr
from gui.services.relax_jobs import RelaxJobRequest, relax_job
from gui.workers import Job

#: Time budget of one search from the desk (seconds).
DESK_BUDGET_S = 60.0


class RelaxController(QObject):
    """One search at a time for the shown plan."""

    sig_busy_changed = pyqtSignal(bool)
    #: (RelaxationReport, cancelled)
    sig_done = pyqtSignal(object, bool)
    #: a translated one-line message
    sig_failed = pyqtSignal(str)

    def __init__(self, dispatch: DispatchController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dispatch = dispatch
        self.job: Job | None = None
        self._plan: object = None  # the plan searched for

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, budget_s: float | None = None) -> Job | None:
        """Start the search for the shown plan (None: nothing shown, stale, or already busy);
        ``budget_s`` default :data:`DESK_BUDGET_S`."""
        d = self.dispatch
        plan = d.plan
        if self.job is not None or plan is None:
            return None
        if d.stale:
            self.sig_failed.emit(tr("方案不是按当前数据生成的，请先重新生成调度方案"))
            return None
        options = DispatchOptions.from_dict(plan.inputs.options)
        request = RelaxJobRequest(
            RelaxRequest(d.request(options), plan, float(budget_s or DESK_BUDGET_S)),
            in_child=d.in_child,
        )
        self._plan = plan
        job = d.runner.start(
            tr("怎样可以满足？"),
            worded(relax_job),
            request,
            on_done=self._on_done,
            on_error=self._on_failed,
        )
        self.job = job
        self.sig_busy_changed.emit(True)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_done(self, report: object, cancelled: bool) -> None:
        self.job = None
        self.sig_busy_changed.emit(False)
        if self.dispatch.plan is not self._plan:  # another plan (or workspace) is shown now
            self.sig_failed.emit(tr("显示的方案已更换，查找结果已丢弃"))
            return
        self.sig_done.emit(report, bool(cancelled))

    def _on_failed(self, message: str, _details: str) -> None:
        self.job = None
        self.sig_busy_changed.emit(False)
        self.sig_failed.emit(message)


__all__ = ["DESK_BUDGET_S", "RelaxController"]
