"""The shared-database controller: snapshot pulls on the job runner, the change listener's
callbacks as Qt signals (queued to the GUI thread), debounced refreshes.

``sig_snapshot`` carries a :class:`gui.services.shared_db_jobs.Snapshot` ready to open;
``sig_change`` each :class:`gis.workspace.postgis_notify.Change`; ``sig_connection`` the
listener's connected/lost state with the server's message; ``sig_failed`` a failed pull.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from gis.model import Scenario
from gis.workspace.postgis_ddl import writable_documents
from gis.workspace.postgis_notify import Change, ChangeListener
from gis.workspace.postgis_sync import Documents, RowChange, SendResult, diff_documents, diff_rows
from gui.services.shared_db_jobs import (
    SendRequest,
    Snapshot,
    SnapshotRequest,
    send_job,
    snapshot_job,
)
from gui.workers import JobRunner


class SharedDbController(QObject):
    sig_snapshot = pyqtSignal(object)  # Snapshot
    sig_change = pyqtSignal(object)  # Change
    sig_connection = pyqtSignal(bool, str)
    sig_failed = pyqtSignal(str)
    sig_sent = pyqtSignal(object)  # SendResult of one desk edit

    def __init__(self, runner: JobRunner, cache_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache_dir = Path(cache_dir)
        self.url: str | None = None
        self.snapshot: Snapshot | None = None
        self.listener: ChangeListener | None = None
        self.connected = False
        self.ever_connected = False
        self.pending: list[Change] = []
        self.change_log: list[Change] = []  # every change heard since connecting
        self.versions: dict[Any, int] = {}
        self.queue: list[list[RowChange]] = []
        self.unsent: list[RowChange] = []
        self.sending = False
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(200)  # a burst of changes → one pull
        self._refresh.timeout.connect(self._refresh_if_foreign)
        self.sig_change.connect(self._on_change)
        self.sig_connection.connect(self._on_connection)

    def open(self, url: str) -> None:
        """Connect to ``url``: pull the first snapshot, then listen for changes."""
        self.close()
        self.url = url
        self.refresh()

    def refresh(self) -> None:
        if self.url is None:
            return
        req = SnapshotRequest(self.url, self.cache_dir / "shared_snapshot.gpkg")
        self.runner.start(
            "读取共享数据库",
            snapshot_job,
            req,
            on_done=lambda result, _cancelled: self._adopt(result),
            on_error=lambda message, _tb: self.sig_failed.emit(message),
            show=False,
        )

    def _adopt(self, snap: Snapshot) -> None:
        if snap.url != self.url:  # a pull of an earlier connection
            return
        self.snapshot = snap
        self.versions = dict(snap.versions)
        self.pending.clear()
        if self.listener is None:
            self.listener = ChangeListener(snap.url, self.sig_change.emit, self.sig_connection.emit)
            self.listener.start(wait_s=5)
        self.sig_snapshot.emit(snap)

    def _on_change(self, change: Change) -> None:
        self.pending.append(change)
        self.change_log.append(change)

    def foreign_since(self, n: int) -> list[Change]:
        """Changes of other desks among those heard after the first ``n``."""
        return [c for c in self.change_log[n:] if not self._own(c)]

    def _on_connection(self, ok: bool, _message: str) -> None:
        was = self.connected
        self.connected = ok
        if ok and not was and self.ever_connected and not self.unsent:
            self._refresh.start()  # back after a loss: catch up on what was missed
        self.ever_connected = self.ever_connected or ok

    def schedule_refresh(self) -> None:
        self._refresh.start()

    def _own(self, c: Change) -> bool:
        """A change this desk saved itself (its version is the one our save returned)."""
        return self.versions.get((c.table, tuple(c.id.split("/")))) == c.version

    def _refresh_if_foreign(self) -> None:
        if self.sending:  # our own save is still coming back: look again afterwards
            self._refresh.start()
            return
        if all(self._own(c) for c in self.pending) and self.pending:
            self.pending.clear()
            return
        self.refresh()

    # ---- sending the desk's edits ----------------------------------------------------------

    def send_edit(
        self,
        old: Scenario,
        new: Scenario,
        old_docs: Documents | None = None,
        new_docs: Documents | None = None,
    ) -> list[RowChange]:
        """Queue the rows of one desk edit (its scenario rows and document rows: one
        transaction) for saving over the versions of the snapshot. Only document kinds the
        connected role may write are sent (a viewer's or planner's plans stay in its copy)."""
        changes = [] if new is old else diff_rows(old, new)
        if old_docs is not None and new_docs is not None:
            snap = self.snapshot
            kinds = writable_documents(snap.role) if snap is not None else ()
            changes += diff_documents(old_docs, new_docs, kinds)
        if changes:
            self.queue.append(changes)
            self._next()
        return changes

    def resend(self, changes: list[RowChange], versions: dict[Any, int] | None = None) -> None:
        """Send ``changes`` again (unsent ones, or conflicts the user overrides with
        ``versions`` = the versions they have now seen)."""
        if versions:
            self.versions.update(versions)
        self.unsent = [c for c in self.unsent if c not in changes]
        self.queue.append(list(changes))
        self._next()

    def _next(self) -> None:
        if self.sending or not self.queue or self.url is None:
            return
        changes = self.queue.pop(0)
        self.sending = True
        self.runner.start(
            "保存到共享数据库",
            send_job,
            SendRequest(self.url, tuple(changes), dict(self.versions)),
            on_done=lambda result, _c: self._sent(result),
            on_error=lambda message, _tb: self._send_failed(changes, message),
            show=False,
            critical=True,
        )

    def _sent(self, result: SendResult) -> None:
        self.sending = False
        for rec in result.saved:
            self.versions[(rec.table, tuple(rec.key))] = rec.version
        self.unsent.extend(result.unsent)
        self.sig_sent.emit(result)
        self._next()

    def _send_failed(self, changes: list[RowChange], message: str) -> None:
        self.sending = False
        self.unsent.extend(changes)
        self.sig_sent.emit(SendResult(unsent=list(changes)))
        self.sig_failed.emit(message)
        self._next()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.listener = None
        self.url = None
        self.snapshot = None
        self.connected = False
        self.ever_connected = False
        self.pending.clear()
        self.queue.clear()
        self.unsent.clear()
        self.change_log.clear()
        self.versions = {}

    def stats(self) -> dict[str, Any]:
        return {"pending": len(self.pending), "connected": self.connected}
