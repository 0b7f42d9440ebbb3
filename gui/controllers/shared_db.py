"""The shared-database controller: snapshot pulls on the job runner, the live feed's callbacks
as Qt signals (queued to the GUI thread), record-by-record updates, the desk's edits sent.

``sig_snapshot`` carries a :class:`gui.services.shared_db_jobs.Snapshot` ready to open;
``sig_change`` each :class:`gis.workspace.postgis_notify.Change`; ``sig_connection`` the
listener's connected/lost state with the server's message; ``sig_failed`` a failed pull;
``sig_updates`` the records other desks changed (:class:`gis.workspace.postgis_live.LiveUpdate`),
ready to apply. A record this desk is itself sending (queued, in flight, unsent) or has open in
an edit form is held back (:attr:`SharedDbController.deferred`): this desk's save of it goes
over the version it started from, so a change meanwhile is a conflict shown to the user, never
overwritten; once the desk is done with it, the record is read again. A record older than a
version this desk already has (its own save came back first) is dropped.

Back after a connection loss, the desk catches up record by record (``LiveFeed.catch_up`` with
the versions of its copy): what other desks changed meanwhile arrives as records through the
same path (held back likewise while this desk's unsent edits of them wait), and
``sig_catch_up`` tells how it went; only a gap that cannot be bridged (a whole push, metadata
or outline, too many rows) pulls a fresh copy.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from gis.model import Scenario
from gis.workspace.postgis_ddl import writable_documents
from gis.workspace.postgis_live import LiveBatch, LiveFeed, LiveUpdate, Target, row_targets
from gis.workspace.postgis_notify import Change
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
    sig_batch = pyqtSignal(object)  # LiveBatch, from the feed's thread
    sig_updates = pyqtSignal(object)  # list[LiveUpdate] to apply now
    # a catch-up after a connection loss: its LiveBatch, how many records other desks changed
    sig_catch_up = pyqtSignal(object, int)

    def __init__(self, runner: JobRunner, cache_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache_dir = Path(cache_dir)
        self.url: str | None = None
        self.snapshot: Snapshot | None = None
        self.feed: LiveFeed | None = None
        self.in_flight: list[RowChange] = []
        self.held: dict[Target, int] = {}  # records open in an edit form (count of forms)
        self.deferred: set[Target] = set()  # other desks' changes held back (see module doc)
        self.conflicted: list[RowChange] = []  # an edit rolled back, the user still choosing
        self.saved: set[tuple[str, tuple[str, ...], int]] = set()  # rows this desk saved
        self.connected = False
        self.ever_connected = False
        self.pending: list[Change] = []
        self.change_log: list[Change] = []  # every change heard since connecting
        self.catch_ups: list[LiveBatch] = []  # catch-ups after connection losses
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
        self.sig_batch.connect(self._on_batch)
        self._incoming: dict[Target, LiveUpdate] = {}  # records fetched, not yet applied
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(0)  # after the batches already queued
        self._apply_timer.timeout.connect(self._apply_incoming)

    @property
    def listener(self) -> Any:
        return None if self.feed is None else self.feed.listener

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
        self.deferred.clear()
        if self.feed is None:
            self.feed = LiveFeed(
                snap.url,
                self.sig_batch.emit,
                on_change=self.sig_change.emit,
                on_connection=self.sig_connection.emit,
            )
            self.feed.start(wait_s=5)
        self.sig_snapshot.emit(snap)

    def _on_change(self, change: Change) -> None:
        self.change_log.append(change)

    # ---- other desks' records ------------------------------------------------------------------

    def _busy(self) -> tuple[set[Any], set[Target]]:
        """Rows and records this desk is sending or has open in a form."""
        rows: set[Any] = set()
        targets: set[Target] = set(self.held)
        edits = [*self.in_flight, *self.unsent, *self.conflicted]
        for ch in [*edits, *(c for edit in self.queue for c in edit)]:
            rows.add((ch.table, ch.key))
            targets |= row_targets(ch.table, ch.key, ch.values)
        return rows, targets

    def _on_batch(self, batch: LiveBatch) -> None:
        """Batches queued while the GUI thread was busy are merged (newest record wins) and
        applied once, when the queue is empty: the desk never works through a backlog."""
        if self.snapshot is None:
            return
        if batch.reload and self.connected:  # a push, metadata or outline: read it all again
            self.schedule_refresh()  # (not connected: the reconnection catches up anyway)
        if batch.catch_up:
            self.catch_ups.append(batch)
            self.sig_catch_up.emit(batch, len(self._news(batch.updates)))
        for up in batch.updates:
            had = self._incoming.pop(up.target, None)
            if had is not None:
                up = replace(up, changes=had.changes + up.changes)
            self._incoming[up.target] = up
        if self._incoming and not self._apply_timer.isActive():
            self._apply_timer.start()

    def _news(self, updates: list[LiveUpdate]) -> list[LiveUpdate]:
        """The records other desks changed: not this desk's own edit (being sent, or its save
        come back) — a record gone, or one with a row newer than this desk has."""
        _rows, targets = self._busy()
        return [
            up
            for up in updates
            if up.target not in targets
            and (not up.rows or any(self.versions.get(r, 0) < v for r, v in up.rows.items()))
        ]

    def _apply_incoming(self) -> None:
        incoming = list(self._incoming.values())
        self._incoming.clear()
        if self.snapshot is None:
            return
        rows, targets = self._busy()
        ready: list[LiveUpdate] = []
        for up in incoming:
            if up.target in targets or rows & set(up.rows):
                self.deferred.add(up.target)
            elif not any(self.versions.get(r, 0) > v for r, v in up.rows.items()):
                ready.append(up)
        self.pending = [c for up in incoming if up.target in self.deferred for c in up.changes]
        if ready:
            self.sig_updates.emit(ready)

    def adopted(self, updates: list[LiveUpdate], old_rows: set[Any]) -> None:
        """The view applied ``updates``: their rows' versions are this desk's now (the rows of
        the records' previous state, ``old_rows``, are forgotten first)."""
        for r in old_rows:
            self.versions.pop(r, None)
        for up in updates:
            self.versions.update(up.rows)

    def hold(self, target: Target) -> None:
        """An edit form opened on ``target``: hold other desks' changes of it back."""
        self.held[target] = self.held.get(target, 0) + 1

    def release(self, target: Target) -> None:
        n = self.held.get(target, 0) - 1
        if n > 0:
            self.held[target] = n
        else:
            self.held.pop(target, None)
        self._catch_up()

    def _catch_up(self) -> None:
        """Read again the records held back that this desk is done with."""
        if not self.deferred or self.feed is None:
            return
        _rows, targets = self._busy()
        free = {t for t in self.deferred if t not in targets}
        if free:
            self.deferred -= free
            self.feed.request(free)

    def foreign_since(self, n: int) -> list[Change]:
        """Changes of other desks among those heard after the first ``n``."""
        return [c for c in self.change_log[n:] if not self._own(c)]

    def _on_connection(self, ok: bool, _message: str) -> None:
        was = self.connected
        self.connected = ok
        if ok and not was and self.ever_connected and self.feed is not None:
            self.feed.catch_up(dict(self.versions))  # back after a loss: what was missed
        self.ever_connected = self.ever_connected or ok

    def schedule_refresh(self) -> None:
        self._refresh.start()

    def _own(self, c: Change) -> bool:
        """A change this desk saved itself (its version is one our saves returned; the
        versions map also holds other desks' records once applied, so it cannot tell)."""
        return (c.table, tuple(c.id.split("/")), c.version) in self.saved

    def _refresh_if_foreign(self) -> None:
        if self.sending:  # our own save is still coming back: look again afterwards
            self._refresh.start()
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
        self.conflicted = []
        self.unsent = [c for c in self.unsent if c not in changes]
        self.queue.append(list(changes))
        self._next()

    def _next(self) -> None:
        if self.sending or not self.queue or self.url is None:
            return
        changes = self.queue.pop(0)
        self.sending = True
        self.in_flight = list(changes)
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
        self.in_flight = []
        for rec in result.saved:
            self.versions[(rec.table, tuple(rec.key))] = rec.version
            self.saved.add((rec.table, tuple(rec.key), rec.version))
        self.unsent.extend(result.unsent)
        self.conflicted = list(result.rolled_back) if result.conflicts else []
        self.sig_sent.emit(result)
        self._next()
        self._catch_up()

    def reread(self, changes: list[RowChange]) -> None:
        """Take the database's state of the records ``changes`` touch (修改冲突 → 采用数据库中的
        版本, a refusal): they are read again and applied like another desk's change."""
        self.conflicted = []
        targets = set().union(*(row_targets(c.table, c.key, c.values) for c in changes))
        self.deferred |= targets
        self._catch_up()

    def _send_failed(self, changes: list[RowChange], message: str) -> None:
        self.sending = False
        self.in_flight = []
        self.unsent.extend(changes)
        self.sig_sent.emit(SendResult(unsent=list(changes)))
        self.sig_failed.emit(message)
        self._next()

    def close(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        self.feed = None
        self.in_flight = []
        self.held.clear()
        self.deferred.clear()
        self._incoming.clear()
        self.conflicted = []
        self.saved.clear()
        self.url = None
        self.snapshot = None
        self.connected = False
        self.ever_connected = False
        self.pending.clear()
        self.queue.clear()
        self.unsent.clear()
        self.change_log.clear()
        self.catch_ups.clear()
        self.versions = {}

    def stats(self) -> dict[str, Any]:
        return {"pending": len(self.pending), "connected": self.connected}
