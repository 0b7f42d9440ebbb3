"""The dialog of a plan status step (批准 / 下达 / 开始执行 / 完成 / 作废): name, note, review.

For 批准 and 下达 it lists what :func:`dispatch.plan_review.review_items` finds (partial state,
unmet and late needs, uncovered team skills, safety stock released), coloured by severity, before
the operator confirms. Approving a 部分方案 needs the confirmation box ticked; 作废 needs a
reason. After a cancelled run, :func:`ask_show_partial` asks whether its 部分方案 replaces the
plan shown (default: keep). The dialogs only ask: the step itself is the dispatch controller's.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dispatch.plan import TRANSITIONS, Plan
from dispatch.plan_review import Severity, review_items
from dispatch.records import PlanStatus
from gui.i18n import tr

#: Steps whose dialog shows the review list.
REVIEWED = (PlanStatus.APPROVED, PlanStatus.ISSUED)
SEVERITY_COLOURS = {
    Severity.ERROR: QColor("#b00020"),
    Severity.WARNING: QColor("#b35c00"),
    Severity.INFO: QColor("#34495e"),
}


@dataclass(frozen=True)
class StepAnswer:
    """What the operator entered: ``who`` (may be blank: the caller says so), ``note``
    (the reason, for 作废) and whether a 部分方案 was confirmed."""

    who: str
    note: str = ""
    allow_partial: bool = False


class PlanStepDialog(QDialog):
    """Asks for one status step of ``plan`` to ``target``."""

    def __init__(self, plan: Plan, target: PlanStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.target = PlanStatus(target)
        action = TRANSITIONS[plan.status].get(self.target, self.target.value)
        self.setWindowTitle(tr("{action}调度方案").format(action=tr(action)))
        lay = QVBoxLayout(self)
        head = QLabel(
            tr("方案 {no}　{status} → {to}").format(
                no=plan.number,
                status=tr(plan.status.value) + (tr("（部分方案）") if plan.partial else ""),
                to=tr(self.target.value),
            ),
            self,
        )
        head.setTextFormat(Qt.TextFormat.PlainText)
        lay.addWidget(head)
        self.review = QListWidget(self)
        self.review.hide()  # laid out (and shown when there is something) for 批准 / 下达 only
        self.items = review_items(plan) if self.target in REVIEWED else ()
        if self.target in REVIEWED:
            label = QLabel(
                tr("请先核对以下问题（共 {n} 项）：").format(n=len(self.items))
                if self.items
                else tr("未发现未满足或迟到的需求。"),
                self,
            )
            label.setTextFormat(Qt.TextFormat.PlainText)
            lay.addWidget(label)
            for item in self.items:
                row = QListWidgetItem(item.text)  # names from data: plain text
                row.setForeground(SEVERITY_COLOURS[item.severity])
                self.review.addItem(row)
            self.review.setVisible(bool(self.items))
            lay.addWidget(self.review, 1)
        form = QFormLayout()
        self.who = QLineEdit(self)
        self.who.setPlaceholderText(tr("姓名"))
        who_label = tr("批准人姓名") if self.target == PlanStatus.APPROVED else tr("经办人姓名")
        form.addRow(who_label, self.who)
        self.note = QLineEdit(self)
        if self.target == PlanStatus.VOID:
            self.note.setPlaceholderText(tr("必填：作废原因"))
            form.addRow(tr("作废原因"), self.note)
        else:
            form.addRow(tr("备注"), self.note)
        lay.addLayout(form)
        self.confirm_partial = QCheckBox(tr("我已知晓这是部分方案（计算未完成），确认批准"), self)
        needs_confirm = self.target == PlanStatus.APPROVED and bool(plan.partial)
        self.confirm_partial.setVisible(needs_confirm)
        lay.addWidget(self.confirm_partial)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr(action))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.needs_confirm = needs_confirm
        for sig in (self.who.textChanged, self.note.textChanged):
            sig.connect(self._update_ok)
        self.confirm_partial.toggled.connect(self._update_ok)
        self._update_ok()
        self.resize(560, 420 if self.items else 200)

    def _update_ok(self) -> None:
        ok = bool(self.who.text().strip())
        if self.target == PlanStatus.VOID:
            ok = ok and bool(self.note.text().strip())
        if self.needs_confirm:
            ok = ok and self.confirm_partial.isChecked()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def answer(self) -> StepAnswer:
        return StepAnswer(
            self.who.text(),
            self.note.text(),
            self.needs_confirm and self.confirm_partial.isChecked(),
        )

    @classmethod
    def ask(cls, parent: QWidget | None, plan: Plan, target: PlanStatus) -> StepAnswer | None:
        """Run the dialog; the answer, or None when cancelled."""
        dlg = cls(plan, target, parent)
        try:
            return dlg.answer() if dlg.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dlg.deleteLater()


def ask_show_partial(parent: QWidget | None, partial: Plan, current: Plan | None) -> bool:
    """After a cancelled run: True to show its 部分方案 instead of ``current`` (default: keep)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(tr("部分方案"))
    box.setText(
        tr("计算未完成：部分方案 {no}（{why}），未满足 {n} 项。").format(
            no=partial.number, why=tr(partial.partial_text), n=len(partial.unserved)
        )
    )
    box.setInformativeText(
        tr("地图上仍是当前方案 {cur}。部分方案已保存在方案列表中。").format(
            cur=current.number if current is not None else ""
        )
    )
    keep = box.addButton(tr("保留当前方案"), QMessageBox.ButtonRole.RejectRole)
    show = box.addButton(tr("显示部分方案"), QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is show


__all__ = ["REVIEWED", "PlanStepDialog", "StepAnswer", "ask_show_partial"]
