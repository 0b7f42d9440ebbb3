"""Background jobs with progress and Cancel.

A job is a pure function ``run(data, *, stop, progress) -> result`` (Orange3 style): ``stop()``
returns True once the user pressed Cancel, ``progress(fraction, message)`` reports. The function
should return the best result it has when asked to stop; the job then finishes with that result
and ``cancelled=True``. Errors are delivered as a signal with the traceback, never swallowed
(a :class:`gis.errors.Cancelled` raised after Cancel is reported as 已取消). Each job runs inside
:func:`gis.job_context.job_context`, so slow work started deep inside it without a ``stop`` of
its own (a road network's preprocessing) reports to the job's progress and obeys its Cancel.
Progress messages (the services' Chinese texts) reach the view in the UI language
(:func:`gui.i18n.tr_progress`).

:class:`JobRunner` starts a thread per job and owns a small status-bar widget (label, progress bar,
Cancel button) showing the running job.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gis.errors import Cancelled
from gis.job_context import job_context
from gui.i18n import tr, tr_progress

log = logging.getLogger(__name__)

RunFn = Callable[..., Any]


class Job(QObject):
    """One background job. Connect to its signals before :meth:`JobRunner.start`."""

    sig_progress = pyqtSignal(float, str)
    sig_finished = pyqtSignal(object, bool)  # result, cancelled
    sig_failed = pyqtSignal(str, str)  # message, traceback

    def __init__(self, name: str, fn: RunFn, data: Any = None) -> None:
        super().__init__()
        self.name = name
        self.fn = fn
        self.data = data
        self._stop = threading.Event()
        self.done = False
        self.critical = False
        self.result: Any = None
        self.error: str | None = None
        self.started_at = 0.0
        self.elapsed_s = 0.0

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        self.started_at = time.perf_counter()
        try:
            with job_context(self._stop.is_set, self._progress):
                result = self.fn(self.data, stop=self._stop.is_set, progress=self._progress)
        except Exception as exc:  # delivered to the GUI thread as a signal
            self.error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
            if isinstance(exc, Cancelled) and self._stop.is_set():
                self.error = tr("已取消")  # stopped deep inside (e.g. road preprocessing)
            self.elapsed_s = time.perf_counter() - self.started_at
            self.done = True
            log.warning("job %s failed: %s", self.name, self.error)
            self.sig_failed.emit(self.error, traceback.format_exc())
            return
        self.result = result
        self.elapsed_s = time.perf_counter() - self.started_at
        self.done = True
        self.sig_finished.emit(result, self._stop.is_set())

    def _progress(self, fraction: float, message: str = "") -> None:
        self.sig_progress.emit(float(fraction), tr_progress(str(message)))


class JobWidget(QWidget):
    """Status-bar widget: job name, progress bar, Cancel."""

    sig_cancel = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton(tr("取消"), self)
        self.cancel_button.clicked.connect(self.sig_cancel)
        for w in (self.label, self.bar, self.cancel_button):
            lay.addWidget(w)
        self.hide()

    def show_job(self, name: str) -> None:
        self.label.setText(name)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.show()

    def set_progress(self, fraction: float, message: str) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        if message:
            self.label.setText(message)


class JobRunner(QObject):
    """Runs each job on its own Python thread and shows the latest one in a :class:`JobWidget`.

    Plain :class:`threading.Thread` rather than a QThreadPool: pyproj/GDAL keep per-thread state
    that crashed (segfault in ``pyproj.CRS``) when QThreadPool recycled its threads.
    """

    sig_busy_changed = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threads: list[threading.Thread] = []
        self.widget: JobWidget | None = None
        self.jobs: list[Job] = []

    def attach(self, widget: JobWidget) -> None:
        self.widget = widget
        widget.sig_cancel.connect(self.cancel_all)

    def start(
        self,
        name: str,
        fn: RunFn,
        data: Any = None,
        *,
        on_done: Callable[[Any, bool], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
        show: bool = True,
        critical: bool = False,
    ) -> Job:
        """Start ``fn(data, stop=..., progress=...)`` in the background and return the job.

        ``critical`` jobs (writes) are waited for at shutdown; others are abandoned (their
        threads are daemons and only read).
        """
        job = Job(name, fn, data)
        job.critical = critical
        job.setParent(self)
        if on_done is not None:
            job.sig_finished.connect(on_done)
        if on_error is not None:
            job.sig_failed.connect(on_error)
        job.sig_finished.connect(lambda *_: self._finished(job))
        job.sig_failed.connect(lambda *_: self._finished(job))
        if show and self.widget is not None:
            self.widget.show_job(name)
            job.sig_progress.connect(self.widget.set_progress)
        self.jobs.append(job)
        self.sig_busy_changed.emit(True)
        thread = threading.Thread(target=job._run, name=f"job:{name}", daemon=True)
        thread.critical = critical  # type: ignore[attr-defined]
        self.threads = [t for t in self.threads if t.is_alive()]
        self.threads.append(thread)
        thread.start()
        return job

    def _finished(self, job: Job) -> None:
        if sip.isdeleted(self):  # the window that owned this runner is gone
            return
        if job in self.jobs:
            self.jobs.remove(job)
        if not self.jobs:
            # a job may end after its window (and the progress widget) was closed and deleted
            if self.widget is not None and not sip.isdeleted(self.widget):
                self.widget.hide()
            self.sig_busy_changed.emit(False)
        job.deleteLater()

    def cancel_all(self) -> None:
        for job in list(self.jobs):
            job.cancel()

    @property
    def busy(self) -> bool:
        return bool(self.jobs)

    def wait(self, msecs: int = 30000, *, critical_only: bool = False) -> bool:
        """Block until the jobs' threads ended (shutdown and tests only)."""
        deadline = time.monotonic() + msecs / 1000
        threads = [t for t in self.threads if getattr(t, "critical", False) or not critical_only]
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)
