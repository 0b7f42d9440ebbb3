"""Team constraints in the dispatch dock: pin (固定), forbid (禁止) and reassign (改派) a
team–incident pair from the 队伍派遣 table, by buttons or the rows' context menu.

The pairs live in :class:`gui.controllers.dispatch.DispatchController` and are applied by the
next run; this widget only edits them and shows them (``label``: 约束（重新生成时生效）…).
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QPushButton, QWidget

from gui.controllers.dispatch import DispatchController
from gui.docks.plan_tables import PlanTable
from gui.i18n import tr
from gui.session import Session


class TeamConstraintTools(QWidget):
    """The row of constraint buttons (shown with the 队伍派遣 tab) and its ``label``."""

    def __init__(
        self,
        controller: DispatchController,
        session: Session,
        team_table: PlanTable,
        *,
        run: Callable[[], object],
        message: Callable[[str, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.session = session
        self.team_table = team_table
        self._run = run
        self._message = message
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.pin_button = QPushButton(tr("固定"), self)
        self.pin_button.setToolTip(tr("固定所选队伍派往该事件（重新计算时保持）"))
        self.pin_button.clicked.connect(lambda: self._on_selected_pair(self.pin))
        self.forbid_button = QPushButton(tr("禁止"), self)
        self.forbid_button.setToolTip(tr("禁止所选队伍派往该事件（重新计算时排除）"))
        self.forbid_button.clicked.connect(lambda: self._on_selected_pair(self.forbid))
        self.reassign = QComboBox(self)
        self.reassign.setToolTip(tr("把所选队伍改派到此事件（固定）"))
        self.reassign_button = QPushButton(tr("改派"), self)
        self.reassign_button.clicked.connect(self._reassign_selected)
        self.clear_button = QPushButton(tr("清除约束"), self)
        self.clear_button.clicked.connect(self.controller.clear_constraints)
        for w in (self.pin_button, self.forbid_button, self.reassign, self.reassign_button):
            row.addWidget(w)
        row.addWidget(self.clear_button)
        self.label = QLabel("", parent)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        team_table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        team_table.customContextMenuRequested.connect(self._team_menu)

    def pin(self, team_id: str, incident_id: str) -> None:
        """Pin ``team_id`` to ``incident_id`` for the next run (a team has one pin at most)."""
        self.controller.pin(team_id, incident_id)

    def forbid(self, team_id: str, incident_id: str) -> None:
        """Forbid sending ``team_id`` to ``incident_id`` in the next run."""
        self.controller.forbid(team_id, incident_id)

    def refresh_incidents(self) -> None:
        """The reassign targets: open incidents that need teams (the choice is kept)."""
        current = self.reassign.currentData()
        self.reassign.clear()
        for inc in self.session.scenario.open_incidents():
            if inc.required_skills:
                self.reassign.addItem(tr("{name}（{id}）").format(name=inc.name, id=inc.id), inc.id)
        i = self.reassign.findData(current)
        if i >= 0:
            self.reassign.setCurrentIndex(i)

    def retranslate(self) -> None:
        """After a language switch: re-word the reassign targets."""
        self.refresh_incidents()

    def update_state(self, has_plan: bool) -> None:
        """Buttons enabled by whether a plan is shown; the label lists the pairs set."""
        for w in (self.pin_button, self.forbid_button, self.reassign_button):
            w.setEnabled(has_plan)
        pins, forbids = self.controller.pins, self.controller.forbids
        self.clear_button.setEnabled(bool(pins or forbids))
        if pins or forbids:
            parts = [tr("固定 {t}→{i}").format(t=t, i=i) for t, i in sorted(pins)]
            parts += [tr("禁止 {t}→{i}").format(t=t, i=i) for t, i in sorted(forbids)]
            self.label.setText(tr("约束（重新生成时生效）：") + "；".join(parts))
        else:
            self.label.setText("")

    def selected_pair(self) -> tuple[str, str] | None:
        rows = {i.row() for i in self.team_table.selectedIndexes()}
        for r in sorted(rows):
            key = self.team_table.row_key(r)
            if isinstance(key, str) and "|" in key:
                t, i = key.split("|", 1)
                return t, i
        return None

    def _on_selected_pair(self, fn: Callable[[str, str], None]) -> None:
        pair = self.selected_pair()
        if pair is None:
            self._message("info", tr("请先在队伍派遣表中选择一行"))
            return
        fn(*pair)

    def _reassign_selected(self) -> None:
        pair = self.selected_pair()
        target = self.reassign.currentData()
        if pair is None or not target:
            self._message("info", tr("请先选择队伍和目标事件"))
            return
        self.pin(pair[0], str(target))

    def _team_menu(self, pos: QPoint) -> None:
        index = self.team_table.indexAt(pos)
        if not index.isValid():
            return
        key = self.team_table.row_key(index.row())
        if not (isinstance(key, str) and "|" in key):
            return
        team, inc = key.split("|", 1)
        menu = self.team_menu(team, inc)
        menu.exec(self.team_table.viewport().mapToGlobal(pos))

    def team_menu(self, team: str, incident: str) -> QMenu:
        """The context menu of an assignment row (pin, forbid, reassign to another incident)."""
        menu = QMenu(self)
        a: QAction = menu.addAction(tr("固定此派遣"))
        a.triggered.connect(lambda: self.pin(team, incident))
        a = menu.addAction(tr("禁止此派遣"))
        a.triggered.connect(lambda: self.forbid(team, incident))
        sub = menu.addMenu(tr("改派到"))
        for inc in self.session.scenario.open_incidents():
            if inc.id != incident and inc.required_skills:
                act = sub.addAction(tr("{name}（{id}）").format(name=inc.name, id=inc.id))
                act.triggered.connect(lambda _c=False, i=inc.id: self.pin(team, i))
        menu.addSeparator()
        a = menu.addAction(tr("按约束重新生成"))
        a.triggered.connect(lambda: self._run())
        return menu


__all__ = ["TeamConstraintTools"]
