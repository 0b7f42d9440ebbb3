"""The base of the edit forms and the field widgets they share.

:class:`EntityDialog` is a form that builds a new frozen entity from its fields when OK is pressed;
a :class:`gis.errors.ValidationError` (or bad number) is shown in red in the dialog, which stays
open. On success ``dialog.entity`` holds the new entity and ``accepted`` is emitted; the caller
hands it to the :class:`gui.session.Session` (dialogs never edit state themselves).

The field helpers (:func:`combo`, :func:`spin`, …) and the table editors (:class:`MappingEditor`
for ``key -> quantity``, :class:`VehiclesEditor`) are used by the entity forms in
:mod:`gui.editors` and :mod:`gui.incident_form`, and by the drill inject dialog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PyQt6.QtCore import QDateTime, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gis.errors import ReliefDeskError
from gis.fields import parse_number
from gis.model import LEVEL_NAME_ZH, LEVEL_ROMAN, Location, Scenario, Vehicle
from gui.i18n import current_language, tr, tr_noop
from gui.table_models import MappingModel

__all__ = [
    "DATETIME_DISPLAY",
    "EntityDialog",
    "MappingEditor",
    "VehiclesEditor",
    "combo",
    "combo_value",
    "int_spin",
    "level_combo",
    "spin",
    "to_qdatetime",
]

#: How date-times are shown in editors (as in the tables and on the map: 2026-12-03 07:02).
DATETIME_DISPLAY = "yyyy-MM-dd HH:mm"


def to_qdatetime(value: datetime) -> QDateTime:
    """``value`` (naive, as the model stores times) for a ``QDateTimeEdit``."""
    return QDateTime(value.year, value.month, value.day, value.hour, value.minute, value.second)


def combo(
    values: Sequence[str], current: str | None = None, *, editable: bool = False
) -> QComboBox:
    """A combo of data ``values`` shown in the UI language, ``current`` chosen (an editable
    combo shows a value it does not list as typed text; read it with :func:`combo_value`)."""
    c = QComboBox()
    c.setEditable(editable)
    for v in values:
        c.addItem(tr(v) if v else v, v)  # shown in the UI language, the data value kept
    if current is not None:
        i = c.findData(current)
        if i >= 0:
            c.setCurrentIndex(i)
        elif editable:
            c.setEditText(current)
    return c


def combo_value(c: QComboBox) -> str:
    """The value of an editable :func:`combo`: the chosen item's data, or the typed text."""
    i = c.currentIndex()
    if i >= 0 and c.currentText() == c.itemText(i):
        return str(c.itemData(i))
    return c.currentText().strip()


def level_combo(current: int = 4) -> QComboBox:
    """The response levels I–IV (data: 1–4), ``current`` chosen."""
    c = QComboBox()
    for lvl in (1, 2, 3, 4):
        c.addItem(
            tr("{r}级（{name}）").format(r=LEVEL_ROMAN[lvl], name=tr(LEVEL_NAME_ZH[lvl])), lvl
        )
    c.setCurrentIndex(c.findData(current))
    return c


def spin(
    value: float, lo: float, hi: float, decimals: int = 0, step: float = 1.0
) -> QDoubleSpinBox:
    """A number field from ``lo`` to ``hi`` with ``decimals`` and arrow ``step``."""
    s = QDoubleSpinBox()
    s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    return s


def int_spin(value: int, lo: int = 0, hi: int = 10_000_000) -> QSpinBox:
    """A whole-number field (thousands separated), for people and counts."""
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(int(value))
    s.setGroupSeparatorShown(True)
    return s


class MappingEditor(QWidget):
    """Edit a ``key -> quantity`` mapping: pick a key, type a quantity, add; edit cells; remove."""

    def __init__(
        self,
        values: Mapping[str, float],
        choices: Sequence[tuple[str, str]],
        *,
        headers: Sequence[str] = (tr_noop("物资"), tr_noop("数量")),
        free_keys: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        labels = dict(choices)
        self.model = MappingModel(list(values.items()), headers=headers, labels=labels, parent=self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        self.key = QComboBox(self)
        self.key.setEditable(free_keys)
        for code, label in choices:
            self.key.addItem(
                tr(label) if label == code else tr("{name}（{id}）").format(name=label, id=code),
                code,
            )
        self.qty = spin(1, 0, 1e9, 2)
        add = QPushButton(tr("添加/更新"), self)
        rm = QPushButton(tr("删除行"), self)
        add.clicked.connect(self._add)
        rm.clicked.connect(self._remove)
        row = QHBoxLayout()
        for w in (self.key, self.qty, add, rm):
            row.addWidget(w)
        # a refused cell value (text, negative) is explained here instead of silently reverting
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        self.model.sig_rejected.connect(self._show_rejected)
        self.model.dataChanged.connect(lambda *_: self.error.hide())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        lay.addWidget(self.error)
        lay.addLayout(row)

    def _show_rejected(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _add(self) -> None:
        code = self.key.currentData()
        if code is None or self.key.currentText() != self.key.itemText(self.key.currentIndex()):
            code = self.key.currentText().strip()
        if not code:
            return
        q = self.qty.value()
        self.model.set_value(code, int(q) if float(q).is_integer() else q)

    def _remove(self) -> None:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()}, reverse=True)
        for r in rows:
            self.model.remove_row(r)

    def values(self) -> dict[str, float]:
        return self.model.as_dict()

    def set_values(self, values: Mapping[str, float]) -> None:
        self.model.replace_all(list(values.items()))


class VehiclesEditor(QWidget):
    """Edit a list of vehicles (id, kind, capacity kg/m³, name, speed factor)."""

    HEADERS = ("编号", "车型", "载重(kg)", "容积(m³)", "名称", "速度系数")

    def __init__(self, vehicles: Sequence[Vehicle], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(self.HEADERS), self)
        self.table.setHorizontalHeaderLabels([tr(h) for h in self.HEADERS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for v in vehicles:
            self.add_row(v.id, v.kind, v.capacity_kg, v.capacity_m3, v.name, v.speed_factor)
        add = QPushButton(tr("添加车辆"), self)
        rm = QPushButton(tr("删除车辆"), self)
        add.clicked.connect(lambda: self.add_row("", "厢式货车", 5000, 20, "", 1.0))
        rm.clicked.connect(self._remove)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(add)
        row.addWidget(rm)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table)
        lay.addLayout(row)

    def add_row(self, *values: Any) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, v in enumerate(values):
            self.table.setItem(
                r,
                c,
                QTableWidgetItem("" if v is None else f"{v:g}" if isinstance(v, float) else str(v)),
            )

    def _remove(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)

    def vehicles(self, home_id: str, id_prefix: str) -> tuple[Vehicle, ...]:
        out = []
        for r in range(self.table.rowCount()):
            cells = [
                (self.table.item(r, c).text().strip() if self.table.item(r, c) else "")
                for c in range(6)
            ]
            vid = cells[0] or f"{id_prefix}-V{r + 1}"
            try:
                cap_kg = parse_number(cells[2] or 0)
                cap_m3 = parse_number(cells[3] or 0)
                speed = parse_number(cells[5] or 1)
            except ValueError:
                raise ReliefDeskError(
                    tr("车辆第 {row} 行：载重、容积、速度系数必须是数字").format(row=r + 1)
                ) from None
            out.append(Vehicle(vid, cells[1], cap_kg, cap_m3, home_id, cells[4], speed))
        return tuple(out)


class EntityDialog(QDialog):
    """Base form: fields on top, a red validation message, OK/Cancel."""

    title = "编辑"

    def __init__(self, scenario: Scenario, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scenario = scenario
        self.entity: Any = None
        self.setWindowTitle(tr(self.title))
        self.form = QFormLayout()
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.form)

    def finish_layout(self) -> None:
        self.body.addWidget(self.error)
        self.body.addWidget(self.buttons)

    def build(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def try_accept(self) -> bool:
        """Build the entity; show the error and stay open if it is invalid."""
        try:
            self.entity = self.build()
        except (ReliefDeskError, ValueError, KeyError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.error.hide()
        self.accept()
        return True

    def _materials(self) -> list[tuple[str, str]]:
        en = current_language() == "en"
        return [
            (m.code, f"{m.name_en if en and m.name_en else m.name_zh}/{tr(m.unit)}")
            for m in self.scenario.materials
        ]

    def _location_row(self, loc: Location) -> None:
        self.lon = spin(loc.lon, -180, 180, 6, 0.001)
        self.lat = spin(loc.lat, -90, 90, 6, 0.001)
        box = QHBoxLayout()
        box.addWidget(QLabel(tr("经度")))
        box.addWidget(self.lon)
        box.addWidget(QLabel(tr("纬度")))
        box.addWidget(self.lat)
        self.form.addRow(tr("位置（WGS-84）"), box)

    def _loc(self) -> Location:
        return Location(self.lon.value(), self.lat.value())
