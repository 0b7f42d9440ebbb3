"""The "怎样可以满足？" dialog: the suggestions of a :class:`dispatch.relax.RelaxationReport` per
late or unmet need, each with its checked effect, as plain text (names from data are never
markup)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from dispatch.relax_changes import RelaxationReport
from dispatch.results import Status
from gui.i18n import tr


class RelaxDialog(QDialog):
    """Read-only view of one report (non-modal; closing it changes nothing)."""

    def __init__(self, report: RelaxationReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("怎样可以满足？"))
        self.report = report
        lay = QVBoxLayout(self)
        verified = sum(1 for n in report.needs if any(s.verified for s in n.suggestions))
        head = tr("{n} 项需求迟到或未满足，其中 {k} 项找到经重新求解验证的调整").format(
            n=len(report.needs), k=verified
        )
        if report.status is not Status.OPTIMAL and report.notes:
            head += f"（{report.notes[-1]}）"
        self.header = QLabel(head, self)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.header.setWordWrap(True)
        lay.addWidget(self.header)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setPlainText(report.text())
        lay.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(720, 480)


__all__ = ["RelaxDialog"]
