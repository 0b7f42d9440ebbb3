"""The incident form (突发事件): typed or clicked coordinates in WGS-84/GCJ-02/BD-09/CGCS2000,
needs and skills pre-filled from the 预案 templates.

The form takes a ``check_location(lon, lat) -> warnings`` (the window passes
:func:`gis.placement.check_incident_location` over the session's scenario and roads): warnings
(outside the county, too far from any road) show under the coordinates as they change, and OK
with warnings asks once more — a second OK at the same place saves it (warned, not forbidden).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gis.errors import ReliefDeskError
from gis.model import (
    LEVEL_ROMAN,
    STANDARD_SKILLS,
    Incident,
    IncidentCategory,
    IncidentStatus,
    Location,
    Scenario,
)
from gui.entity_form import (
    EntityDialog,
    MappingEditor,
    combo,
    combo_value,
    int_spin,
    level_combo,
    spin,
)
from gui.i18n import tr

__all__ = ["COORD_SYSTEMS", "IncidentDialog"]

COORD_SYSTEMS: tuple[tuple[str, str], ...] = (
    ("WGS84", "WGS-84（GPS）"),
    ("GCJ02", "GCJ-02（高德/腾讯）"),
    ("BD09", "BD-09（百度）"),
    ("CGCS2000", "CGCS2000"),
)


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
        self.category = combo([v.value for v in IncidentCategory], entity.category.value)
        subtypes = list(dict.fromkeys([entity.subtype, *self.templates]))
        self.subtype = combo([s for s in subtypes if s], entity.subtype, editable=True)
        self.level = level_combo(entity.level)
        self.people = int_spin(entity.affected_people)
        self.deadline = spin(entity.deadline_min, 1, 100000, 0, 10)
        self.status = combo([v.value for v in IncidentStatus], entity.status.value)
        self.status.setEnabled(not is_new)
        self.description = QLineEdit(entity.description)
        self.system = QComboBox()
        for code, label in COORD_SYSTEMS:
            self.system.addItem(tr(label), code)
        self.x = spin(entity.location.lon, -180, 180, 6, 0.001)
        self.y = spin(entity.location.lat, -90, 90, 6, 0.001)
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

        subtype = combo_value(self.subtype)
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
            subtype=combo_value(self.subtype),
            level=self.level.currentData(),
            affected_people=self.people.value(),
            deadline_min=self.deadline.value(),
            status=self.status.currentData(),
            location=Location(lon, lat),
            description=self.description.text().strip(),
            needs=self.needs.values(),
            required_skills={k: int(v) for k, v in self.skills.values().items()},
        )
