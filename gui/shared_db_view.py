"""文件 → 连接共享数据库…: the desk's view of a shared PostGIS workspace (issue 16).

The desk opens a snapshot copy of the database (:mod:`gui.controllers.shared_db`) through the
ordinary open flow; a change another desk commits appears in the message log at once and, when
this desk has no unsaved edits, a fresh snapshot is opened (a reload of the copy, not yet a
per-record update). The connected role greys out what it may not change (the database refuses it
anyway). When the server goes away a red banner says so, the edit actions are disabled (the last
picture stays, read only) and the desk catches up when the listener reconnects.

Not yet: desk edits are not written back record by record (they stay in the local copy), and
the conflict dialog over :class:`gis.workspace.postgis.VersionConflict` is not built.
"""

from __future__ import annotations

import os
from typing import Any

from PyQt6.QtCore import QObject
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QInputDialog, QLabel, QLineEdit

from gis.paths import cache_dir
from gis.workspace.postgis import is_database_url
from gis.workspace.postgis_notify import Change
from gui.controllers.shared_db import SharedDbController
from gui.i18n import tr
from gui.services.shared_db_jobs import Snapshot

_LOST_STYLE = "QLabel { background: #b71c1c; color: white; padding: 2px 6px; }"
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
        window.sig_loaded.connect(self._on_loaded)
        self.loading: Snapshot | None = None

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
        self.controller.open(url)

    def _on_failed(self, message: str) -> None:
        self.w.report_error(tr("无法读取共享数据库"), message, "")

    def _on_snapshot(self, snap: Snapshot) -> None:
        self.loading = snap
        self.w.open_workspace(snap.path)

    def _on_loaded(self, path: str) -> None:
        snap = self.loading
        if snap is not None and path == str(snap.path):
            self.loading = None
            self.w.setWindowTitle(
                f"{self.w.session.scenario.name} — {snap.location} — ReliefDesk 应急资源调度台"
            )
            self.apply_role(snap.writable)
            self._show_banner()
            return
        current = self.controller.snapshot
        if path and current is not None and path != str(current.path):
            self.controller.close()  # another workspace was opened: leave the database
            self.banner.hide()
            self.apply_role(None)

    # ---- live state --------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if change.op == "RELOAD":
            text = tr("共享数据库已整体更新（{who}）").format(who=change.who or "rd_admin")
        else:
            text = tr("共享数据库更新：{table} {id}（{who}，版本 {version}）").format(
                table=change.table, id=change.id, who=change.who, version=change.version
            )
        self.w.messages.add("info", text)
        if self.w.session.dirty:
            self._show_banner(
                tr("共享数据库有 {n} 处更新未载入（本机有未保存的修改）").format(
                    n=len(self.controller.pending)
                )
            )
        else:
            self.controller.schedule_refresh()

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
