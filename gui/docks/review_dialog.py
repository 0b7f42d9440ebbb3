"""事件复盘 — a read-only view of the after-action review of the open workspace.

A thin view over :func:`dispatch.drills.review.review` run WITHOUT re-plans (``replan=None``:
the timeline, information-report deadlines and 接报→下达 minutes are a pass over the event log,
instant on the GUI thread). The comparison with the optimiser re-solves at every moment and is
left to ``python app.py review WS --out DIR`` (the dialog says so). Table cells are plain-text
items: names from data are never markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
)

from dispatch.drills.review import review
from dispatch.drills.review_cli import (
    LATENCY_HEADERS,
    REPORT_HEADERS,
    TIMELINE_HEADERS,
    latency_rows,
    report_rows,
    timeline_rows,
)
from dispatch.plan import plans_from_documents
from gis.errors import ValidationError
from gui.i18n import tr

__all__ = ["OVERDUE_BG", "ReviewDialog", "open_review_dialog"]

OVERDUE_BG = "#fde0dc"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> QTableWidget:
    t = QTableWidget(len(rows), len(headers))
    t.setHorizontalHeaderLabels([tr(h) for h in headers])
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            it = QTableWidgetItem(str(value))
            it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
            t.setItem(r, c, it)
    t.resizeColumnsToContents()
    t.horizontalHeader().setStretchLastSection(True)
    return t


class ReviewDialog(QDialog):
    """The review of ``scenario`` and ``documents`` (event log, stored plans), read-only."""

    def __init__(
        self,
        parent: Any,
        scenario: Any,
        documents: Mapping[str, Mapping[str, str]] | None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("事件复盘"))
        self.resize(980, 600)
        lay = QVBoxLayout(self)
        try:
            self.data: dict[str, Any] | None = review(
                scenario, documents, plans_from_documents(documents), replan=None
            )
        except ValidationError as exc:  # a stored plan that cannot be read
            self.data = None
            err = QLabel(tr("无法复盘：") + str(exc))
            err.setTextFormat(Qt.TextFormat.PlainText)  # text from data is never markup
            lay.addWidget(err)
        self.tabs = QTabWidget()
        if self.data is not None:
            d = self.data
            self.timeline = _table(TIMELINE_HEADERS, timeline_rows(d))
            self.reports = _table(REPORT_HEADERS, report_rows(d))
            for r, rec in enumerate(d["reports"]):
                if rec["overdue"]:
                    for c in range(self.reports.columnCount()):
                        self.reports.item(r, c).setBackground(QBrush(QColor(OVERDUE_BG)))
            self.tabs.addTab(self.timeline, tr("时间线"))
            self.tabs.addTab(self.reports, tr("信息报告时限"))
            self.tabs.addTab(_table(LATENCY_HEADERS, latency_rows(d)), tr("接报到下达"))
            lay.addWidget(self.tabs)
            note = QLabel(
                tr(
                    "信息报告时限自接报起算（默认值及依据见 README；红色：迟报或逾期未报）。"
                    "与优化方案的对比需重新求解，请运行 python app.py review 工作区 --out 目录。"
                )
            )
            note.setWordWrap(True)
            note.setTextFormat(Qt.TextFormat.PlainText)
            lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)


def open_review_dialog(window: Any) -> ReviewDialog:
    """A fresh review of the window's open workspace (the log may have grown since the last)."""
    session = window.session
    dialog = ReviewDialog(window, session.scenario, session.documents)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
