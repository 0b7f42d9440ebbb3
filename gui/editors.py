"""Edit forms for scenario entities, with validation messages.

Each dialog builds a new frozen entity from its fields when OK is pressed; a
:class:`gis.errors.ValidationError` (or bad number) is shown in red in the dialog, which stays
open. On success ``dialog.entity`` holds the new entity and ``accepted`` is emitted; the caller
hands it to the :class:`gui.session.Session` (dialogs never edit state themselves).

The incident form takes a ``check_location(lon, lat) -> warnings`` (the window passes
:func:`gis.placement.check_incident_location` over the session's scenario and roads): warnings
(outside the county, too far from any road) show under the coordinates as they change, and OK
with warnings asks once more — a second OK at the same place saves it (warned, not forbidden).

Size: one form per entity kind plus the field helpers they share; splitting the forms apart would
scatter those helpers for no reader's benefit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from PyQt6.QtCore import QDateTime, Qt
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gis.errors import ReliefDeskError
from gis.fields import parse_number
from gis.model import (
    CANDIDATE_KIND_ZH,
    LEVEL_NAME_ZH,
    LEVEL_ROMAN,
    STANDARD_SKILLS,
    CandidateKind,
    CandidateSite,
    DemandKind,
    DemandPoint,
    ForceType,
    Hazard,
    Incident,
    IncidentCategory,
    IncidentStatus,
    Location,
    RoadClosure,
    Scenario,
    Shelter,
    ShelterClass,
    ShelterSetting,
    Stockpile,
    StockpileLevel,
    Team,
    TeamStatus,
    Vehicle,
)
from gis.placement import township_at
from gui.i18n import current_language, tr, tr_noop
from gui.table_models import MappingModel

COORD_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("WGS84", "WGS-84（GPS）"),
    ("GCJ02", "GCJ-02（高德/腾讯）"),
    ("BD09", "BD-09（百度）"),
    ("CGCS2000", "CGCS2000"),
)


def _combo(
    values: Sequence[str], current: str | None = None, *, editable: bool = False
) -> QComboBox:
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


def _combo_value(c: QComboBox) -> str:
    """The value of an editable :func:`_combo`: the chosen item's data, or the typed text."""
    i = c.currentIndex()
    if i >= 0 and c.currentText() == c.itemText(i):
        return str(c.itemData(i))
    return c.currentText().strip()


def _level_combo(current: int = 4) -> QComboBox:
    c = QComboBox()
    for lvl in (1, 2, 3, 4):
        c.addItem(tr("{r}级（{name}）").format(r=LEVEL_ROMAN[lvl], name=tr(LEVEL_NAME_ZH[lvl])), lvl)
    c.setCurrentIndex(c.findData(current))
    return c


def _spin(
    value: float, lo: float, hi: float, decimals: int = 0, step: float = 1.0
) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    return s


def _int_spin(value: int, lo: int = 0, hi: int = 10_000_000) -> QSpinBox:
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
                tr(label) if label == code else tr("{name}（{id}）").format(name=label, id=code), code
            )
        self.qty = _spin(1, 0, 1e9, 2)
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
        self.lon = _spin(loc.lon, -180, 180, 6, 0.001)
        self.lat = _spin(loc.lat, -90, 90, 6, 0.001)
        box = QHBoxLayout()
        box.addWidget(QLabel(tr("经度")))
        box.addWidget(self.lon)
        box.addWidget(QLabel(tr("纬度")))
        box.addWidget(self.lat)
        self.form.addRow(tr("位置（WGS-84）"), box)

    def _loc(self) -> Location:
        return Location(self.lon.value(), self.lat.value())


class StockpileDialog(EntityDialog):
    title = "储备库"

    def __init__(
        self, scenario: Scenario, entity: Stockpile, parent: QWidget | None = None
    ) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.level = _combo([v.value for v in StockpileLevel], entity.level.value)
        self.contact = QLineEdit(entity.contact)
        self.township = _combo([""] + [t.code for t in scenario.townships], entity.township_code)
        for i, t in enumerate(scenario.townships, start=1):
            self.township.setItemText(i, f"{t.name}（{t.code}）")
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("级别"), self.level)
        self._location_row(entity.location)
        self.form.addRow(tr("所属乡镇"), self.township)
        self.form.addRow(tr("联系方式"), self.contact)
        # 库容 (m³): 0 shows as "未填" = not stated (planning then estimates it, and says so)
        self.capacity = _spin(entity.capacity_m3 or 0.0, 0, 1_000_000, 1, 10)
        self.capacity.setSpecialValueText(tr("未填（不限）"))
        self.form.addRow(tr("库容（m³）"), self.capacity)
        self.inventory = MappingEditor(entity.inventory, self._materials())
        self.safety = MappingEditor(entity.safety_stock, self._materials())
        self.vehicles = VehiclesEditor(entity.vehicles)
        self.tabs = QTabWidget(self)
        for title, w in (
            (tr_noop("库存"), self.inventory),
            (tr_noop("安全库存"), self.safety),
            (tr_noop("车辆"), self.vehicles),
        ):
            self.tabs.addTab(w, tr(title))
        self.body.addWidget(self.tabs, 1)
        self.finish_layout()
        self.resize(600, 640)

    def build(self) -> Stockpile:
        e = self.original
        return replace(  # fields without a form (production/expiry dates) are kept
            e,
            name=self.name.text().strip(),
            level=self.level.currentData(),
            location=self._loc(),
            inventory=self.inventory.values(),
            safety_stock=self.safety.values(),
            vehicles=self.vehicles.vehicles(e.id, e.id),
            township_code=self.township.currentData() or "",
            contact=self.contact.text().strip(),
            capacity_m3=self.capacity.value() or None,
        )


class ShelterDialog(EntityDialog):
    title = "避难场所"

    def __init__(self, scenario: Scenario, entity: Shelter, parent: QWidget | None = None) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.setting = _combo([v.value for v in ShelterSetting], entity.setting.value)
        self.klass = _combo([v.value for v in ShelterClass], entity.shelter_class.value)
        self.capacity = _int_spin(entity.capacity)
        self.occupancy = _int_spin(entity.occupancy)
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("类型"), self.setting)
        self.form.addRow(tr("等级"), self.klass)
        self.form.addRow(tr("容量（人）"), self.capacity)
        self.form.addRow(tr("已安置（人）"), self.occupancy)
        self._location_row(entity.location)
        self.stock = MappingEditor(entity.stock, self._materials())
        g = QGroupBox(tr("场所物资"), self)
        QVBoxLayout(g).addWidget(self.stock)
        self.body.addWidget(g)
        self.finish_layout()
        self.resize(520, 560)

    def build(self) -> Shelter:
        e = self.original
        return replace(
            e,
            name=self.name.text().strip(),
            setting=self.setting.currentData(),
            shelter_class=self.klass.currentData(),
            capacity=self.capacity.value(),
            occupancy=self.occupancy.value(),
            location=self._loc(),
            stock=self.stock.values(),
        )


class DemandPointDialog(EntityDialog):
    """A demand point (需求点: village, school, factory …) and its people."""

    title = "需求点"

    def __init__(
        self, scenario: Scenario, entity: DemandPoint, parent: QWidget | None = None
    ) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.kind = _combo([v.value for v in DemandKind], entity.kind.value)
        self.population = _int_spin(entity.population)
        self.weight = _spin(entity.weight, 0, 1000, 2, 0.5)
        self.township = _combo([""] + [t.code for t in scenario.townships], entity.township_code)
        for i, t in enumerate(scenario.townships, start=1):
            self.township.setItemText(i, f"{t.name}（{t.code}）")
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("类型"), self.kind)
        self.form.addRow(tr("人口（人）"), self.population)
        self.form.addRow(tr("权重（× 人口）"), self.weight)
        self._location_row(entity.location)
        self.form.addRow(tr("所属乡镇"), self.township)
        self.finish_layout()
        self.resize(480, 300)

    def build(self) -> DemandPoint:
        return replace(
            self.original,
            name=self.name.text().strip(),
            kind=self.kind.currentData(),
            population=self.population.value(),
            weight=self.weight.value(),
            location=self._loc(),
            township_code=self.township.currentData() or "",
        )


class CandidateSiteDialog(EntityDialog):
    """A planner-marked candidate site (候选站点) for 选址."""

    title = "候选站点"

    def __init__(
        self, scenario: Scenario, entity: CandidateSite, parent: QWidget | None = None
    ) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.kind = QComboBox()
        for k, zh in CANDIDATE_KIND_ZH.items():
            self.kind.addItem(tr(zh), k.value)
        self.kind.setCurrentIndex(self.kind.findData(entity.kind.value))
        self.capacity = _int_spin(entity.capacity)
        self.capacity.setSpecialValueText(tr("未填"))
        self.cost = _spin(entity.fixed_cost, 0, 1_000_000, 1, 10)
        self.cost.setSpecialValueText(tr("未填"))
        self.note = QLineEdit(entity.note)
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("可建为"), self.kind)
        self.form.addRow(tr("可服务/容纳（人）"), self.capacity)
        self.form.addRow(tr("建设费用（万元）"), self.cost)
        self._location_row(entity.location)
        self.form.addRow(tr("备注"), self.note)
        self.finish_layout()
        self.resize(480, 300)

    def build(self) -> CandidateSite:
        return replace(
            self.original,
            name=self.name.text().strip(),
            kind=self.kind.currentData(),
            capacity=self.capacity.value(),
            fixed_cost=self.cost.value(),
            location=self._loc(),
            note=self.note.text().strip(),
        )


class TeamDialog(EntityDialog):
    title = "救援队伍"

    def __init__(self, scenario: Scenario, entity: Team, parent: QWidget | None = None) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.force = _combo([v.value for v in ForceType], entity.force_type.value)
        self.headcount = _int_spin(entity.headcount, 0, 100000)
        self.status = _combo([v.value for v in TeamStatus], entity.status.value)
        self.leader = QLineEdit(entity.leader)
        self.phone = QLineEdit(entity.phone)
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("力量类型"), self.force)
        self.form.addRow(tr("人数"), self.headcount)
        self.form.addRow(tr("状态"), self.status)
        self.form.addRow(tr("负责人"), self.leader)
        self.form.addRow(tr("电话"), self.phone)
        self._location_row(entity.location)
        self.skills = QListWidget(self)
        known = list(dict.fromkeys([*STANDARD_SKILLS, *entity.skills]))
        for s in known:
            item = QListWidgetItem(tr(s))
            item.setData(Qt.ItemDataRole.UserRole, s)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if s in entity.skills else Qt.CheckState.Unchecked
            )
            self.skills.addItem(item)
        self.new_skill = QLineEdit(self)
        self.new_skill.setPlaceholderText(tr("其他技能，回车添加"))
        self.new_skill.returnPressed.connect(self._add_skill)
        skills_box = QWidget(self)
        gl = QVBoxLayout(skills_box)
        gl.addWidget(self.skills)
        gl.addWidget(self.new_skill)
        self.vehicles = VehiclesEditor(entity.vehicles)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(skills_box, tr("技能"))
        self.tabs.addTab(self.vehicles, tr("车辆"))
        self.body.addWidget(self.tabs, 1)
        self.finish_layout()
        self.resize(600, 680)

    def _add_skill(self) -> None:
        text = self.new_skill.text().strip()
        if text and not self.skills.findItems(text, Qt.MatchFlag.MatchExactly):
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.skills.addItem(item)
        self.new_skill.clear()

    def checked_skills(self) -> tuple[str, ...]:
        return tuple(
            self.skills.item(i).data(Qt.ItemDataRole.UserRole) or self.skills.item(i).text()
            for i in range(self.skills.count())
            if self.skills.item(i).checkState() == Qt.CheckState.Checked
        )

    def build(self) -> Team:
        e = self.original
        return replace(
            e,
            name=self.name.text().strip(),
            force_type=self.force.currentData(),
            headcount=self.headcount.value(),
            status=self.status.currentData(),
            leader=self.leader.text().strip(),
            phone=self.phone.text().strip(),
            location=self._loc(),
            skills=self.checked_skills(),
            vehicles=self.vehicles.vehicles(e.id, e.id),
        )


HAZARD_CATEGORIES = (
    "地质灾害隐患点",
    "危化品企业",
    "尾矿库",
    "山洪危险区",
    "森林火险区",
    "水库",
    "其他",
)


class HazardDialog(EntityDialog):
    title = "危险源/风险点"

    def __init__(self, scenario: Scenario, entity: Hazard, parent: QWidget | None = None) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.id_edit = QLineEdit(entity.id)
        self.id_edit.setReadOnly(True)
        self.name = QLineEdit(entity.name)
        self.category = _combo(HAZARD_CATEGORIES, entity.category, editable=True)
        self.risk = _level_combo(entity.risk_level)
        self.description = QLineEdit(entity.description)
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("类别"), self.category)
        self.form.addRow(tr("风险等级"), self.risk)
        self.form.addRow(tr("说明"), self.description)
        self.finish_layout()

    def build(self) -> Hazard:
        return replace(
            self.original,
            name=self.name.text().strip(),
            category=_combo_value(self.category),
            risk_level=self.risk.currentData(),
            description=self.description.text().strip(),
        )


class ClosureDialog(EntityDialog):
    title = "道路管制"

    def __init__(
        self, scenario: Scenario, entity: RoadClosure, parent: QWidget | None = None
    ) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.reason = QLineEdit(entity.reason)
        self.closes = QCheckBox(tr("完全封闭（否则限速）"))
        self.closes.setChecked(entity.closes)
        self.factor = _spin(entity.speed_factor if not entity.closes else 0.5, 0.05, 0.95, 2, 0.05)
        self.radius = _spin(entity.radius_m, 1, 100000, 0, 10)
        self.since = QDateTimeEdit(
            QDateTime.currentDateTime() if entity.since is None else _qdt(entity.since)
        )
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat(DATETIME_DISPLAY)  # not the locale's "3 12 2026 07:02"
        # a full closure has no speed factor: the field is off while 完全封闭 is ticked
        self.factor.setEnabled(not entity.closes)
        self.closes.toggled.connect(lambda on: self.factor.setEnabled(not on))
        self.form.addRow(tr("编号"), QLabel(entity.id))
        self.form.addRow(tr("原因"), self.reason)
        self.form.addRow("", self.closes)
        self.form.addRow(tr("限速系数"), self.factor)
        if entity.geometry.geom_type == "Point":
            self.form.addRow(tr("影响半径（米）"), self.radius)
        self.form.addRow(tr("开始时间"), self.since)
        self.finish_layout()

    def build(self) -> RoadClosure:
        return replace(
            self.original,
            reason=self.reason.text().strip(),
            speed_factor=0.0 if self.closes.isChecked() else self.factor.value(),
            radius_m=self.radius.value(),
            since=self.since.dateTime().toPyDateTime().replace(microsecond=0),
        )


#: How date-times are shown in editors (as in the tables and on the map: 2026-12-03 07:02).
DATETIME_DISPLAY = "yyyy-MM-dd HH:mm"


def _qdt(value: datetime) -> QDateTime:
    return QDateTime(value.year, value.month, value.day, value.hour, value.minute, value.second)


class IncidentDialog(EntityDialog):
    """New/edit incident: typed or clicked coordinates in WGS-84/GCJ-02/BD-09, needs from 预案."""

    title = "突发事件"

    def __init__(
        self,
        scenario: Scenario,
        entity: Incident,
        templates: Mapping[str, Mapping[int, Any]] | None = None,
        parent: QWidget | None = None,
        *,
        is_new: bool = True,
        check_location: Callable[[float, float], tuple[str, ...]] | None = None,
    ) -> None:
        super().__init__(scenario, parent)
        self.original = entity
        self.templates = dict(templates or {})
        self.is_new = is_new
        self.check_location = check_location
        #: the WGS-84 place whose warnings the operator has seen and confirmed with OK
        self._confirmed_at: tuple[float, float] | None = None
        self.name = QLineEdit(entity.name)
        self.category = _combo([v.value for v in IncidentCategory], entity.category.value)
        subtypes = list(dict.fromkeys([entity.subtype, *self.templates]))
        self.subtype = _combo([s for s in subtypes if s], entity.subtype, editable=True)
        self.level = _level_combo(entity.level)
        self.people = _int_spin(entity.affected_people)
        self.deadline = _spin(entity.deadline_min, 1, 100000, 0, 10)
        self.status = _combo([v.value for v in IncidentStatus], entity.status.value)
        self.status.setEnabled(not is_new)
        self.description = QLineEdit(entity.description)
        self.system = QComboBox()
        for code, label in COORD_SYSTEMS:
            self.system.addItem(tr(label), code)
        self.x = _spin(entity.location.lon, -180, 180, 6, 0.001)
        self.y = _spin(entity.location.lat, -90, 90, 6, 0.001)
        coord = QHBoxLayout()
        coord.addWidget(self.system)
        coord.addWidget(QLabel(tr("经度")))
        coord.addWidget(self.x)
        coord.addWidget(QLabel(tr("纬度")))
        coord.addWidget(self.y)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("类别"), self.category)
        self.form.addRow(tr("类型"), self.subtype)
        self.form.addRow(tr("响应级别"), self.level)
        self.form.addRow(tr("受影响人数"), self.people)
        self.form.addRow(tr("处置时限（分钟）"), self.deadline)
        self.form.addRow(tr("状态"), self.status)
        self.form.addRow(tr("坐标"), coord)
        self.location_warning = QLabel(self)
        self.location_warning.setTextFormat(Qt.TextFormat.PlainText)
        self.location_warning.setWordWrap(True)
        self.location_warning.setStyleSheet("color: #b35c00;")
        self.location_warning.hide()
        self.form.addRow("", self.location_warning)
        self.form.addRow(tr("说明"), self.description)
        self.template_note = QLabel(self)
        self.template_note.setTextFormat(Qt.TextFormat.PlainText)  # names come from the data
        self.template_note.setWordWrap(True)
        self.form.addRow("", self.template_note)
        self.needs = MappingEditor(entity.needs, self._materials())
        self.skills = MappingEditor(
            entity.required_skills,
            [(s, s) for s in STANDARD_SKILLS],
            headers=("技能", "人数"),
            free_keys=True,
        )
        fill = QPushButton(tr("按预案重新填充"), self)
        fill.clicked.connect(self.fill_from_template)
        g = QGroupBox(tr("需求（按预案预填，可调整）"), self)
        gl = QVBoxLayout(g)
        gl.addWidget(self.needs)
        gl.addWidget(QLabel(tr("所需技能 × 人数")))
        gl.addWidget(self.skills)
        gl.addWidget(fill)
        self.body.addWidget(g)
        self.finish_layout()
        self.resize(620, 780)
        # needs the operator typed are never overwritten by an automatic refill (changing type,
        # level or people); the "按预案重新填充" button still replaces them on purpose
        self._filling = False
        self.hand_edited = False
        for model in (self.needs.model, self.skills.model):
            for sig in (model.dataChanged, model.rowsInserted, model.rowsRemoved):
                sig.connect(self._mark_hand_edited)
        for sig in (self.x.valueChanged, self.y.valueChanged):
            sig.connect(lambda _v: self.update_location_warning())
        self.system.currentIndexChanged.connect(lambda _i: self.update_location_warning())
        self.update_location_warning()
        if is_new:
            self.subtype.currentTextChanged.connect(lambda _t: self._auto_fill())
            self.level.currentIndexChanged.connect(lambda _i: self._auto_fill())
            self.people.valueChanged.connect(lambda _v: self._auto_fill())
            if not entity.needs:
                self.fill_from_template()

    def _mark_hand_edited(self, *_args: Any) -> None:
        if not self._filling:
            self.hand_edited = True

    def _auto_fill(self) -> None:
        if self.hand_edited:
            self.template_note.setText(
                tr("需求已手工调整，未自动更新；如需按预案重算，请点击「按预案重新填充」")
            )
            return
        self.fill_from_template()

    def fill_from_template(self) -> bool:
        """Replace needs, skills and deadline with the 预案 template's for subtype/level/people."""
        from gis.catalogue import template_needs

        subtype = _combo_value(self.subtype)
        if subtype not in self.templates:
            self.template_note.setText(tr("无此类型的预案模板，请手工填写需求"))
            return False
        try:
            needs, skills, deadline = template_needs(
                self.templates,
                subtype,
                self.level.currentData(),
                self.people.value(),
                materials=self.scenario.material_index,
            )
        except ReliefDeskError as exc:
            self.template_note.setText(str(exc))
            return False
        known = {m.code for m in self.scenario.materials}
        if known:
            needs = {k: v for k, v in needs.items() if k in known}
        self._filling = True
        try:
            self.needs.set_values(needs)
            self.skills.set_values(skills)
        finally:
            self._filling = False
        self.hand_edited = False
        self.deadline.setValue(deadline)
        tpl = self.templates[subtype][self.level.currentData()]
        cat = getattr(tpl, "category", None)
        if cat is not None:
            i = self.category.findData(getattr(cat, "value", str(cat)))
            if i >= 0:
                self.category.setCurrentIndex(i)
        self.template_note.setText(
            tr("已按预案「{subtype} {level}级」填充").format(
                subtype=tr(subtype), level=LEVEL_ROMAN[self.level.currentData()]
            )
        )
        return True

    def location_warnings(self) -> tuple[str, ...]:
        """Warnings of the place typed in (none without a ``check_location``)."""
        if self.check_location is None:
            return ()
        try:
            lon, lat = self.location_wgs84()
        except (ReliefDeskError, ValueError):
            return ()
        return tuple(self.check_location(lon, lat))

    def update_location_warning(self) -> tuple[str, ...]:
        warnings = self.location_warnings()
        self.location_warning.setText("\n".join("⚠ " + w for w in warnings))
        self.location_warning.setVisible(bool(warnings))
        return warnings

    def try_accept(self) -> bool:
        """As the base form, but a place with warnings needs a second OK (warned, not refused)."""
        warnings = self.update_location_warning()
        if warnings:
            try:
                here = self.location_wgs84()
            except (ReliefDeskError, ValueError):
                here = None
            if here is not None and here != self._confirmed_at:
                self._confirmed_at = here
                self.location_warning.setText(
                    self.location_warning.text()
                    + "\n"
                    + tr("仍要使用此位置，请再次点击「确定」；否则请修改坐标。")
                )
                return False
        return super().try_accept()

    def location_wgs84(self) -> tuple[float, float]:
        from gis.coords import to_wgs84

        lon, lat = to_wgs84(self.x.value(), self.y.value(), self.system.currentData())
        return float(lon), float(lat)

    def build(self) -> Incident:
        lon, lat = self.location_wgs84()
        return replace(
            self.original,
            name=self.name.text().strip(),
            category=self.category.currentData(),
            subtype=_combo_value(self.subtype),
            level=self.level.currentData(),
            affected_people=self.people.value(),
            deadline_min=self.deadline.value(),
            status=self.status.currentData(),
            location=Location(lon, lat),
            description=self.description.text().strip(),
            needs=self.needs.values(),
            required_skills={k: int(v) for k, v in self.skills.values().items()},
        )


def default_entity(kind: str, entity_id: str, lon: float, lat: float, scenario: Scenario) -> Any:
    """A fresh entity of ``kind`` at ``lon, lat`` with sensible defaults (to be edited)."""
    loc = Location(lon, lat)
    township = township_at(scenario, lon, lat)  # 所属乡镇 from the clicked point
    if kind == "stockpiles":
        return Stockpile(
            entity_id, tr("新储备库"), StockpileLevel.TOWNSHIP, loc, township_code=township
        )
    if kind == "shelters":
        return Shelter(
            entity_id,
            tr("新避难场所"),
            ShelterSetting.INDOOR,
            ShelterClass.EMERGENCY,
            loc,
            100,
            township_code=township,
        )
    if kind == "teams":
        return Team(entity_id, tr("新救援队伍"), ForceType.GRASSROOTS, loc, 10)
    if kind == "hazards":
        return Hazard(entity_id, tr("新风险点"), "地质灾害隐患点", 3, Point(lon, lat))
    if kind == "demand_points":
        return DemandPoint(entity_id, tr("新需求点"), DemandKind.VILLAGE, loc, 0)
    if kind == "candidate_sites":
        return CandidateSite(entity_id, tr("新候选站点"), CandidateKind.ANY, loc)
    if kind == "incidents":
        return Incident(
            entity_id,
            tr("新事件"),
            IncidentCategory.NATURAL,
            "山洪",
            4,
            loc,
            datetime.now().replace(microsecond=0),
            affected_people=100,
            township_code=township,
        )
    raise KeyError(kind)


def closure_from_geometry(entity_id: str, geometry: BaseGeometry, reason: str = "") -> RoadClosure:
    return RoadClosure(
        entity_id, geometry, reason=reason, since=datetime.now().replace(microsecond=0)
    )


DIALOGS: dict[str, type[EntityDialog]] = {
    "stockpiles": StockpileDialog,
    "shelters": ShelterDialog,
    "teams": TeamDialog,
    "hazards": HazardDialog,
    "closures": ClosureDialog,
    "demand_points": DemandPointDialog,
    "candidate_sites": CandidateSiteDialog,
}
