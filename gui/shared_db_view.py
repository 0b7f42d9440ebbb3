"""文件 → 连接共享数据库…: the desk's view of a shared PostGIS workspace (issue 16).

The desk opens a snapshot copy of the database (:mod:`gui.controllers.shared_db`) through the
ordinary open flow; a change another desk commits appears in the message log at once and the
changed record alone — an entity, or a document: a plan and its approvals, an event-log entry,
a warning, a monitor, a pre-positioning record, a template, a map layer, a drill script — is
read again and applied to the session
(:meth:`gui.session.Session.apply_remote`: the undo stack and this desk's unsent edits stay),
so the map, tables, plan list and event log update just that record, without a reload (a whole
push still re-reads the copy). A record this desk is sending or has open in an edit form is held
back until it is done (its save goes through the conflict path). Each edit made here is sent at once as row changes over the snapshot's
versions (:mod:`gis.workspace.postgis_sync`), with its plan / event-log document rows, as one
transaction (all rows or none): a stale one opens a dialog showing this desk's
values and the database's and lets the user keep either; a refusal of the role is reported and
the database's state reloaded; edits that could not be sent are kept and offered for resend when
the connection is back. The connected role greys out what it may not change (the database
refuses it anyway). When the server goes away a red banner says so, the edit actions are
disabled (the last picture stays, read only); when it reconnects the desk catches up record by
record (what other desks changed meanwhile, through the same path) and says so in 消息 — or why
it reads the whole copy again (a push meanwhile).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QInputDialog, QLabel, QLineEdit, QMessageBox

from gis.model import Scenario
from gis.paths import cache_dir
from gis.workspace.postgis import VersionConflict, is_database_url
from gis.workspace.postgis_ddl import writable_documents
from gis.workspace.postgis_live import (
    LiveBatch,
    LiveUpdate,
    apply_updates,
    record_of,
    record_rows,
)
from gis.workspace.postgis_notify import Change
from gis.workspace.postgis_sync import SYNCED_DOCUMENTS, RowChange, SendResult
from gui.controllers.shared_db import SharedDbController
from gui.i18n import tr
from gui.services.shared_db_jobs import Snapshot

_LOST_STYLE = "QLabel { background: #b71c1c; color: white; padding: 2px 6px; }"
_HEARD_SHOWN = 8  # changes named in one 消息 line
_OK_STYLE = "QLabel { background: #1b5e20; color: white; padding: 2px 6px; }"


class SharedDbView(QObject):
    """Wires the controller to one main window (menu action, banner, action states)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.w = window
        self.controller = SharedDbController(window.runner, cache_dir() / "shared", parent=self)
        self.banner = QLabel()
        self.banner.hide()
        window.statusBar().addPermanentWidget(self.banner)
        self.action = QAction(tr("连接共享数据库…"), window)
        self.action.setStatusTip(tr("打开多席位共享的 PostGIS 工作区（实时更新）"))
        self.action.triggered.connect(self.ask)
        window.file_menu.insertAction(window.act_demo, self.action)
        c = self.controller
        c.sig_snapshot.connect(self._on_snapshot)
        c.sig_change.connect(self._on_change)
        c.sig_connection.connect(self._on_connection)
        c.sig_failed.connect(self._on_failed)
        c.sig_sent.connect(self._on_sent)
        c.sig_updates.connect(self.apply_records)
        c.sig_catch_up.connect(self._on_catch_up)
        form_opened = getattr(window, "sig_form_opened", None)
        if form_opened is not None:
            form_opened.connect(self._on_form_opened)
        window.sig_loaded.connect(self._on_loaded)
        window.session.sig_workspace_loaded.connect(self._on_workspace_loaded)
        window.session.sig_scenario_changed.connect(self._on_scenario_changed)
        window.session.sig_documents_changed.connect(self._on_documents_changed)
        self.loading: Snapshot | None = None
        self._adopting = False
        self._remote = False  # a scenario change coming from the database, not from this desk
        self.live = False  # the open workspace is this connection's snapshot
        self.live_updates = 0
        self.last_conflicts: list[VersionConflict] = []
        self.last_rolled_back: list[RowChange] = []  # the whole edit of the last conflict
        self.synced_docs: dict[str, dict[str, str]] = {}  # documents as last sent / loaded
        self.local_kinds: set[str] = set()  # document kinds changed here that are not sent
        self.run_base: tuple[int, int] | None = None  # (data version, changes heard) at a run
        self._dispatch_hooked = False
        self._heard: list[Change] = []  # changes heard, not yet told in 消息
        self._heard_timer = QTimer(self)
        self._heard_timer.setSingleShot(True)
        self._heard_timer.setInterval(300)
        self._heard_timer.timeout.connect(self._tell_heard)

    # ---- connecting --------------------------------------------------------------------------

    def ask(self) -> None:
        if not self.w.maybe_save():
            return
        default = self.controller.url or os.environ.get("RELIEFDESK_DB_VIEWER", "")
        url, ok = QInputDialog.getText(
            self.w,
            tr("连接共享数据库"),
            tr("数据库地址（postgresql://用户:密码@主机:端口/库名）"),
            QLineEdit.EchoMode.Password if default else QLineEdit.EchoMode.Normal,
            default,
        )
        if ok and url.strip():
            self.open(url.strip())

    def open(self, url: str) -> None:
        if not is_database_url(url):
            self.w.report_error(tr("不是数据库地址"), tr("应以 postgresql:// 开头"), "")
            return
        self._hook_dispatch()
        self.controller.open(url)

    # ---- plans are solved against a recorded data version ----------------------------------

    def _hook_dispatch(self) -> None:
        panel = getattr(self.w, "dispatch_panel", None)
        if self._dispatch_hooked or panel is None:
            return
        panel.controller.sig_busy_changed.connect(self.on_dispatch_busy)
        panel.controller.sig_run_finished.connect(self.on_run_finished)
        self._dispatch_hooked = True

    def on_dispatch_busy(self, busy: bool) -> None:
        snap = self.controller.snapshot
        if busy and snap is not None:
            self.run_base = (snap.data_version, len(self.controller.change_log))

    def on_run_finished(self, _done: Any) -> None:
        """Say which data version the plan was solved against and whether it changed since."""
        if self.run_base is None:
            return
        version, heard = self.run_base
        self.run_base = None
        changed = self.controller.foreign_since(heard)
        if not changed:
            self.w.messages.add(
                "info", tr("方案基于共享数据库数据版本 {v} 计算，期间数据未变").format(v=version)
            )
            return
        what = "、".join(dict.fromkeys(f"{c.table} {c.id}" for c in changed))
        self.w.messages.add(
            "warning",
            tr(
                "方案基于共享数据库数据版本 {v} 计算；计算期间其他席位修改了 {n} 处：{what}。请核对或重新生成"
            ).format(v=version, n=len(changed), what=what),
        )

    def _on_failed(self, message: str) -> None:
        self.w.report_error(tr("无法读取共享数据库"), message, "")

    def _on_snapshot(self, snap: Snapshot) -> None:
        session = self.w.session
        if self.live and session.path == snap.path:
            if session.dirty:  # unsent edits here: never replace them by the database's state
                self._show_banner(
                    tr("共享数据库有 {n} 处更新未载入（本机有未保存的修改）").format(
                        n=len(self.controller.pending)
                    )
                )
            else:
                self.apply_live(snap.scenario, snap.documents)
            return
        self.loading = snap
        self.w.open_workspace(snap.path)

    def apply_live(self, fresh: Scenario, documents: Any = None) -> None:
        """Take the database's scenario (and its documents of the kinds desks send; other kinds
        stay as this desk has them) without reopening: only the entity kinds that differ are
        replaced, so the map updates just those layers (the window's incremental path)."""
        old = self.w.session.scenario
        docs = None
        if documents is not None:
            docs = self._docs()
            for kind in SYNCED_DOCUMENTS:
                docs[kind] = dict(documents.get(kind, {}))
            if docs == self._docs():
                docs = None
        same = {
            name: getattr(old, name)
            for name in ("stockpiles", "shelters", "teams", "incidents", "hazards", "closures",
                         "demand_points", "materials", "townships")
            if getattr(fresh, name) == getattr(old, name)
        }  # fmt: skip
        merged = replace(fresh, **same)
        if merged == old and docs is None:
            return
        self._remote = True
        try:
            self.w.session.replace_scenario(old if merged == old else merged, docs)
        finally:
            self._remote = False
        if docs is not None:
            self.synced_docs = self._docs()
        self.live_updates += 1

    def apply_records(self, updates: list[LiveUpdate]) -> None:
        """Apply records other desks changed, one by one (insert, replace, remove): the
        session's scenario and documents and every undo snapshot get them; nothing else moves."""
        if not self.live or self.loading is not None:
            return
        session = self.w.session
        old_rows = set().union(
            *(
                record_rows(up.target, record_of(session.scenario, session.documents, up.target))
                for up in updates
            )
        )
        applied: list[LiveUpdate] = []

        def patch(scenario: Scenario, docs: Any) -> tuple[Scenario, Any]:
            new, new_docs, done = apply_updates(scenario, docs, updates)
            if scenario is session.scenario and docs is session.documents:
                applied.extend(done)
            return new, new_docs

        self._remote = True
        try:
            session.apply_remote(patch)
        except ValueError as exc:  # the records do not fit this copy: read it all again
            self.w.messages.add("warning", tr("共享数据库更新无法逐条载入，重新读取：{e}").format(e=exc))
            self.controller.schedule_refresh()
            return
        finally:
            self._remote = False
        self.synced_docs = apply_updates(session.scenario, self.synced_docs, updates)[1]
        self.controller.adopted(updates, old_rows)
        if applied:
            self.live_updates += 1
            self._show_banner()

    def _on_form_opened(self, entity_id: str, dialog: Any) -> None:
        """An edit form is open on a record: other desks' changes of it wait until it closes
        (after its save, queued first: so the save goes over the version the form started
        from and a change meanwhile is a conflict, shown both ways)."""
        kind = self.w.editing.kind_of(entity_id)
        if kind is None or self.controller.snapshot is None:
            return
        target = (kind, (entity_id,))
        self.controller.hold(target)
        dialog.finished.connect(
            lambda _r: QTimer.singleShot(0, lambda: self.controller.release(target))
        )

    def _on_loaded(self, path: str) -> None:
        snap = self.loading
        if snap is not None and path == str(snap.path):
            self.loading = None
            self.live = True
            self.synced_docs = self._docs()
            self.local_kinds.clear()
            self.w.setWindowTitle(
                f"{self.w.session.scenario.name} — {snap.location} — ReliefDesk 应急资源调度台"
            )
            self.apply_role(snap.writable)
            self._show_banner()
            return
        current = self.controller.snapshot
        if path and current is not None and path != str(current.path):
            self.controller.close()  # another workspace was opened: leave the database
            self.live = False
            self.banner.hide()
            self.apply_role(None)

    # ---- this desk's edits -----------------------------------------------------------------------

    def _on_workspace_loaded(self) -> None:
        self._adopting = True  # the scenario change that follows is the load, not an edit

    def _on_scenario_changed(self, new: Scenario, old: Scenario) -> None:
        if self._adopting:
            self._adopting = False
            return
        if self._remote:
            return
        if self.controller.snapshot is None or self.loading is not None:
            return
        docs = self._docs()  # the session holds both before it signals: one edit, one send
        self.controller.send_edit(old, new, self.synced_docs, docs)
        self.synced_docs = docs

    def _docs(self) -> dict[str, dict[str, str]]:
        return {str(k): dict(v) for k, v in self.w.session.documents.items()}

    def _on_documents_changed(self, kind: str) -> None:
        """A plan stored or moved a lifecycle step (批准, 下达, …), an event-log entry: sent as
        document rows at once, so the database's audit trail has them."""
        snap = self.controller.snapshot
        if self._remote or snap is None or self.loading is not None:
            return
        if self.live and not self._adopting and kind not in writable_documents(snap.role):
            self.local_kinds.add(kind)  # stays in this desk's copy only
        if not self.live:
            return
        docs = self._docs()
        scenario = self.w.session.scenario
        self.controller.send_edit(scenario, scenario, self.synced_docs, docs)
        self.synced_docs = docs

    def _on_sent(self, result: SendResult) -> None:
        if result.saved:
            self.w.messages.add(
                "info", tr("已保存到共享数据库：{n} 行").format(n=len(result.saved))
            )
        if result.refused:
            self.w.report_error(
                tr("共享数据库拒绝了修改"), "\n".join(text for _c, text in result.refused), ""
            )
        if result.unsent:
            self._show_banner(
                tr("{n} 处修改未发送（连接恢复后可重发）").format(n=len(self.controller.unsent))
            )
        if result.conflicts:
            self.last_conflicts = list(result.conflicts)
            self.last_rolled_back = list(result.rolled_back)
            if self.w.interactive:
                self.resolve(result.conflicts, keep_mine=self._ask_conflicts(result.conflicts))
        elif not result.unsent and not self.controller.queue:
            self._mark_sent()  # everything is in the database
            if result.refused:
                self.controller.reread(result.rolled_back)  # the database's state again

    def _mark_sent(self) -> None:
        """This desk's edits are all in the database: nothing unsaved — unless it changed
        documents its role does not send (they live only in this desk's copy)."""
        if self.local_kinds:
            self.w.session.undo_stack.setClean()
        else:
            self.w.session.mark_shared()

    @staticmethod
    def conflict_text(conflicts: list[VersionConflict]) -> str:
        """Both records of each conflict, column by column (this desk → the database)."""
        lines = []
        mine_w, db_w, where_w = tr("我的"), tr("数据库"), tr("位置")
        for c in conflicts:
            lines.append(str(c))
            for column, mine in c.mine.values.items():
                theirs = "—" if c.theirs is None else c.theirs.values.get(column)
                lines.append(f"  {column}: {mine_w} {mine!r} · {db_w} {theirs!r}")
            if c.mine.geometry is not None:
                lines.append(f"  {where_w}: {mine_w} {c.mine.geometry.wkt}")
        return "\n".join(lines)

    def _ask_conflicts(self, conflicts: list[VersionConflict]) -> bool:
        box = QMessageBox(self.w)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(tr("修改冲突"))
        box.setText(tr("其他席位已修改了您正在保存的记录。保留哪一份？"))
        box.setDetailedText(self.conflict_text(conflicts))
        mine = box.addButton(tr("保留我的修改"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(tr("采用数据库中的版本"), QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is mine

    def resolve(
        self,
        conflicts: list[VersionConflict],
        *,
        keep_mine: bool,
        rolled_back: list[RowChange] | None = None,
    ) -> None:
        """Keep this desk's edit (all its rows, saved again over the versions now seen) or the
        database's (the edit was rolled back as a whole: nothing of it is in the database)."""
        rows = self.last_rolled_back if rolled_back is None else rolled_back
        if not keep_mine:
            self._mark_sent()
            self.controller.reread(rows)  # the records read again and applied
            return
        versions, gone = {}, set()
        for c in conflicts:
            key = (c.mine.table, tuple(c.mine.key))
            if c.theirs is None:  # deleted meanwhile: this desk's change of it has no row
                gone.add(key)
            else:
                versions[key] = c.theirs.version
        changes = [ch for ch in rows if (ch.table, ch.key) not in gone]
        if not rows:  # no record of the edit: the conflicting rows alone
            changes = [
                RowChange(c.mine.table, tuple(c.mine.key), "update", c.mine.values, c.mine.geometry)
                for c in conflicts
                if c.theirs is not None
            ]
        self.controller.resend(changes, versions)

    # ---- live state --------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        """Heard at once; told in 消息 at most every 0.3 s, one line for a burst (a line per
        change cost ~10 ms of the GUI thread each: under 20 busy desks the window fell behind)."""
        self._heard.append(change)
        if not self._heard_timer.isActive():
            self._heard_timer.start()
        if self.controller.deferred:
            self._show_banner(
                tr("共享数据库有 {n} 处更新暂缓载入（本机正在修改这些记录）").format(
                    n=len(self.controller.deferred)
                )
            )

    def _tell_heard(self) -> None:
        heard, self._heard = self._heard, []
        reloads = [c for c in heard if c.op == "RELOAD"]
        rows = [c for c in heard if c.op != "RELOAD"]
        for c in reloads:
            text = tr("共享数据库已整体更新（{who}）").format(who=c.who or "rd_admin")
            self.w.messages.add("info", text)
        if len(rows) == 1:
            (c,) = rows
            text = tr("共享数据库更新：{table} {id}（{who}，版本 {version}）").format(
                table=c.table, id=c.id, who=c.who, version=c.version
            )
            self.w.messages.add("info", text)
        elif rows:
            shown = "、".join(f"{c.table} {c.id} v{c.version}" for c in rows[:_HEARD_SHOWN])
            more = " …" if len(rows) > _HEARD_SHOWN else ""
            text = tr("共享数据库更新 {n} 处：{what}").format(n=len(rows), what=shown + more)
            self.w.messages.add("info", text)

    def _on_connection(self, ok: bool, message: str) -> None:
        if not ok:
            self.apply_role(frozenset())  # the last picture stays, read only
            self.banner.setStyleSheet(_LOST_STYLE)
            self.banner.setText(
                tr("与共享数据库的连接已断开：保留最后画面（只读），恢复后自动继续")
            )
            self.banner.setToolTip(message)
            self.banner.show()
            return
        snap = self.controller.snapshot
        if snap is not None:
            self.apply_role(snap.writable)
            self._show_banner()
        unsent = list(self.controller.unsent)
        if unsent and (not self.w.interactive or self._ask_resend(len(unsent))):
            self.controller.resend(unsent)

    def _on_catch_up(self, batch: LiveBatch, n: int) -> None:
        """Say how the desk caught up after a connection loss (``n`` records other desks
        changed, record by record; or why the whole copy is read again)."""
        if batch.reload:
            text = tr("连接恢复：断线期间的更新无法逐条补上（{reason}），重新读取整个共享工作区")
            self.w.messages.add("warning", text.format(reason=batch.reason))
            return
        text = tr("连接恢复：已逐条补上断线期间其他席位的 {n} 处记录更新（未重新读取整个工作区）")
        self.w.messages.add("info", text.format(n=n))

    def _ask_resend(self, n: int) -> bool:
        answer = QMessageBox.question(
            self.w,
            tr("连接已恢复"),
            tr("有 {n} 处修改尚未发送到共享数据库。现在重发吗？").format(n=n),
        )
        return answer == QMessageBox.StandardButton.Yes

    def _show_banner(self, text: str | None = None) -> None:
        snap = self.controller.snapshot
        if snap is None:
            return
        self.banner.setStyleSheet(_OK_STYLE)
        self.banner.setText(text or tr("共享数据库 · 角色 {role}").format(role=snap.role))
        self.banner.setToolTip(snap.location)
        self.banner.show()

    def apply_role(self, writable: frozenset[str] | None) -> None:
        """Enable what the role may change (``None``: not on a database, everything enabled)."""

        def can(table: str) -> bool:
            return writable is None or table in writable

        for kind, act in self.w.add_actions.items():
            act.setEnabled(can(kind))
        for act in self.w.draw_actions.values():
            act.setEnabled(can("closures"))
        self.w.act_incident_coords.setEnabled(can("incidents"))
        anything = writable is None or bool(writable)
        for act in (self.w.act_edit, self.w.act_delete, self.w.act_move):
            act.setEnabled(anything)


def install_shared_db(window: Any) -> SharedDbView:
    window.shared_db = SharedDbView(window)
    return window.shared_db
