"""Event-log dock (incident lifecycle, with times) and message panel (errors, warnings)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from gui.i18n import tr
from gui.table_models import plain_tooltip


class EventLogView(QTreeWidget):
    """Shows ``Session.event_log()`` entries, newest first (plain text cells)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels([tr("时间"), tr("事件"), tr("状态"), tr("记录")])
        self.setRootIsDecorated(False)
        self.header().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

    def set_entries(self, entries: list[dict[str, Any]]) -> None:
        self.clear()
        for e in reversed(entries):
            t = str(e.get("time", ""))
            with contextlib.suppress(ValueError):
                t = datetime.fromisoformat(t).strftime("%m-%d %H:%M:%S")
            change = f"{e.get('from') or '—'} → {e.get('to', '')}"
            item = QTreeWidgetItem([t, str(e.get("incident", "")), change, str(e.get("text", ""))])
            item.setToolTip(3, plain_tooltip(str(e.get("text", ""))))
            self.addTopLevelItem(item)
        for c in range(3):
            self.resizeColumnToContents(c)


class MessagePanel(QTreeWidget):
    """Errors and warnings with details (a child row holds the details/traceback)."""

    ICONS = {"error": "✖", "warning": "⚠", "info": "ℹ"}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels([tr("时间"), tr("级别"), tr("消息")])
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.count_by_level: dict[str, int] = {}

    def add(self, level: str, text: str, details: str = "") -> QTreeWidgetItem:
        label = {"error": tr("错误"), "warning": tr("警告"), "info": tr("信息")}.get(level, level)
        item = QTreeWidgetItem(
            [datetime.now().strftime("%H:%M:%S"), f"{self.ICONS.get(level, '')} {label}", text]
        )
        item.setToolTip(2, plain_tooltip(text))
        if details:
            child = QTreeWidgetItem(["", "", details])
            child.setTextAlignment(2, Qt.AlignmentFlag.AlignLeft)
            item.addChild(child)
        self.insertTopLevelItem(0, item)
        self.count_by_level[level] = self.count_by_level.get(level, 0) + 1
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(1)
        return item

    def add_many(self, level: str, texts: list[str], *, limit: int = 20) -> None:
        """Add the first ``limit`` messages one by one and the rest as one summary row whose
        details list them (thousands of warnings, e.g. of a 10k-facility workspace, made
        thousands of rows and froze the window for seconds)."""
        for text in texts[:limit]:
            self.add(level, text)
        rest = texts[limit:]
        if rest:
            self.add(
                level,
                tr("另有 {n} 条同类消息（展开查看）").format(n=len(rest)),
                "\n".join(rest),
            )
            self.count_by_level[level] = self.count_by_level.get(level, 0) + len(rest) - 1
