"""Attribute table dock of one entity kind: search box, sortable table, edit/delete buttons."""

from __future__ import annotations

from PyQt6.QtCore import QItemSelectionModel, Qt, pyqtSignal
from PyQt6.QtGui import QShowEvent
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gis.model import Scenario
from gui.i18n import tr
from gui.table_models import ID_ROLE, EntityTableModel, make_proxy

#: widest an entity-table column starts (px) when fitted to its contents
MAX_COLUMN_PX = 220
#: rows looked at when a column is fitted to its contents
FIT_SAMPLE_ROWS = 30
#: a hidden (or behind another tab) table with more rows than this is filled when it is shown (or asked for a row),
#: not on every scenario change: a 5,000-row reset costs ~50-100 ms of GUI thread each
LAZY_ROWS = 1000


class EntityTable(QWidget):
    """Table of one kind. ``sig_row_selected(id)`` on a user selection; ``sig_edit(id)`` on double click."""

    sig_row_selected = pyqtSignal(str)
    sig_edit = pyqtSignal(str)
    sig_delete = pyqtSignal(str)

    def __init__(self, kind: str, scenario: Scenario, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.model = EntityTableModel(kind, scenario, self)
        self.proxy = make_proxy(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setStretchLastSection(True)
        # fitting columns to their contents looks at this many rows, not all (10k rows: seconds)
        self.view.horizontalHeader().setResizeContentsPrecision(FIT_SAMPLE_ROWS)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(tr("搜索（任意列）"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.edit_button = QPushButton(tr("编辑"), self)
        self.delete_button = QPushButton(tr("删除"), self)
        self.edit_button.clicked.connect(lambda: self._emit(self.sig_edit))
        self.delete_button.clicked.connect(lambda: self._emit(self.sig_delete))
        self.tools = QHBoxLayout()
        self.tools.addWidget(self.search, 1)
        self.tools.addWidget(self.edit_button)
        self.tools.addWidget(self.delete_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(self.tools)
        lay.addWidget(self.view)
        self._syncing = False
        self._pending: Scenario | None = None
        #: columns are fitted to their contents once, when the first rows arrive (later resets
        #: keep the widths the user may have dragged)
        self._fitted = False
        self.model.modelReset.connect(self._fit_columns)
        self.model.rowsInserted.connect(self._fit_columns)
        self._fit_columns()
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.doubleClicked.connect(lambda _i: self._emit(self.sig_edit))

    def _fit_columns(self, *_args: object) -> None:
        if self._fitted:
            # ids typed later may be longer (SH-0001 after the demo's SH-001): widen, never shrink
            need = self.view.sizeHintForColumn(0)
            if need > self.view.columnWidth(0):
                self.view.setColumnWidth(0, min(need, MAX_COLUMN_PX))
            return
        if self.proxy.rowCount() == 0:
            return
        self._fitted = True
        self.view.resizeColumnsToContents()
        for c in range(self.proxy.columnCount() - 1):
            self.view.setColumnWidth(c, min(self.view.columnWidth(c), MAX_COLUMN_PX))

    def _emit(self, signal: pyqtSignal) -> None:
        entity_id = self.selected_id()
        if entity_id:
            signal.emit(entity_id)

    def selected_id(self) -> str:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return ""
        return str(rows[0].data(ID_ROLE) or "")

    def _selection_changed(self, *_args: object) -> None:
        if self._syncing:
            return
        entity_id = self.selected_id()
        if entity_id:
            self.sig_row_selected.emit(entity_id)

    @property
    def pending(self) -> bool:
        """A scenario waits to be shown (large table, hidden until now)."""
        return self._pending is not None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.flush()

    def on_dock_visibility(self, visible: bool) -> None:
        """Connected to the dock's ``visibilityChanged`` (a tab of tabified docks selected:
        the table is not shown anew, so no ``showEvent``)."""
        if visible:
            self.flush()

    def flush(self) -> None:
        """Show the scenario a hidden large table was given (no-op if none waits)."""
        scenario, self._pending = self._pending, None
        if scenario is not None:
            self._apply(scenario)

    def set_scenario(self, scenario: Scenario) -> None:
        """Show ``scenario``; a large hidden table only keeps it until it is shown."""
        if len(getattr(scenario, self.kind)) > LAZY_ROWS and self.visibleRegion().isEmpty():
            self._pending = scenario
            return
        self._pending = None
        self._apply(scenario)

    def _apply(self, scenario: Scenario) -> None:
        current = self.selected_id()
        self._syncing = True
        try:
            if self.model.set_scenario(scenario) and current:
                self.select_id(current)
        finally:
            self._syncing = False

    def select_id(self, entity_id: str) -> bool:
        """Select the row of ``entity_id`` without emitting ``sig_row_selected``."""
        self.flush()
        row = self.model.row_of(entity_id)
        self._syncing = True
        try:
            if row < 0:
                self.view.clearSelection()
                return False
            src = self.model.index(row, 0)
            idx = self.proxy.mapFromSource(src)
            if not idx.isValid():  # filtered out: clear the search so it shows
                self.search.clear()
                idx = self.proxy.mapFromSource(src)
            self.view.selectionModel().select(
                idx,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.view.scrollTo(idx)
            return True
        finally:
            self._syncing = False

    def row_for_display(self, entity_id: str) -> int:
        """Row in the view (after sort/filter) showing ``entity_id``, or -1."""
        row = self.model.row_of(entity_id)
        if row < 0:
            return -1
        return self.proxy.mapFromSource(self.model.index(row, 0)).row()
