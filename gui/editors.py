"""Edit forms for scenario entities: stockpiles (inventory, safety stock, vehicles), shelters,
demand points, candidate sites, teams (skills, vehicles), hazards and road closures; a fresh
entity for a map click (:func:`default_entity`) and the form of each kind (:data:`DIALOGS`).

The forms share the base :class:`gui.entity_form.EntityDialog` (build on OK, a red message and
stay open on a bad value; the caller hands ``dialog.entity`` to the session) and its field
widgets; the incident form is :mod:`gui.incident_form` (importable from here too).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from PyQt6.QtCore import QDateTime, Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from gis.model import (
    CANDIDATE_KIND_ZH,
    STANDARD_SKILLS,
    CandidateKind,
    CandidateSite,
    DemandKind,
    DemandPoint,
    ForceType,
    Hazard,
    Incident,
    IncidentCategory,
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
)
from gis.placement import township_at
from gui.entity_form import (
    DATETIME_DISPLAY,
    EntityDialog,
    MappingEditor,
    VehiclesEditor,
    combo,
    combo_value,
    int_spin,
    level_combo,
    spin,
    to_qdatetime,
)
from gui.i18n import tr, tr_noop
from gui.incident_form import COORD_SYSTEMS, IncidentDialog

__all__ = [
    "COORD_SYSTEMS",
    "DIALOGS",
    "HAZARD_CATEGORIES",
    "CandidateSiteDialog",
    "ClosureDialog",
    "DemandPointDialog",
    "EntityDialog",
    "HazardDialog",
    "IncidentDialog",
    "ShelterDialog",
    "StockpileDialog",
    "TeamDialog",
    "VehiclesEditor",
    "closure_from_geometry",
    "default_entity",
]


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
        self.level = combo([v.value for v in StockpileLevel], entity.level.value)
        self.contact = QLineEdit(entity.contact)
        self.township = combo([""] + [t.code for t in scenario.townships], entity.township_code)
        for i, t in enumerate(scenario.townships, start=1):
            self.township.setItemText(i, f"{t.name}（{t.code}）")
        self.form.addRow(tr("编号"), self.id_edit)
        self.form.addRow(tr("名称"), self.name)
        self.form.addRow(tr("级别"), self.level)
        self._location_row(entity.location)
        self.form.addRow(tr("所属乡镇"), self.township)
        self.form.addRow(tr("联系方式"), self.contact)
        # 库容 (m³): 0 shows as "未填" = not stated (planning then estimates it, and says so)
        self.capacity = spin(entity.capacity_m3 or 0.0, 0, 1_000_000, 1, 10)
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
        self.setting = combo([v.value for v in ShelterSetting], entity.setting.value)
        self.klass = combo([v.value for v in ShelterClass], entity.shelter_class.value)
        self.capacity = int_spin(entity.capacity)
        self.occupancy = int_spin(entity.occupancy)
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
        self.kind = combo([v.value for v in DemandKind], entity.kind.value)
        self.population = int_spin(entity.population)
        self.weight = spin(entity.weight, 0, 1000, 2, 0.5)
        self.township = combo([""] + [t.code for t in scenario.townships], entity.township_code)
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
        self.capacity = int_spin(entity.capacity)
        self.capacity.setSpecialValueText(tr("未填"))
        self.cost = spin(entity.fixed_cost, 0, 1_000_000, 1, 10)
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
        self.force = combo([v.value for v in ForceType], entity.force_type.value)
        self.headcount = int_spin(entity.headcount, 0, 100000)
        self.status = combo([v.value for v in TeamStatus], entity.status.value)
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
        self.category = combo(HAZARD_CATEGORIES, entity.category, editable=True)
        self.risk = level_combo(entity.risk_level)
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
            category=combo_value(self.category),
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
        self.factor = spin(entity.speed_factor if not entity.closes else 0.5, 0.05, 0.95, 2, 0.05)
        self.radius = spin(entity.radius_m, 1, 100000, 0, 10)
        self.since = QDateTimeEdit(
            QDateTime.currentDateTime() if entity.since is None else to_qdatetime(entity.since)
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
