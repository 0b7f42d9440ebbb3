"""The form of one drill inject (演练插入): time, kind and the kind's fields.

It edits the inject as the drill script file holds it (a dict in the JSON format of
:mod:`dispatch.drills.script`); whether the whole script can run is checked by
:func:`dispatch.drills.store.row_problems` and shown next to the row in the timeline, so this
form only refuses what cannot be written down at all (no id, geometry that is not GeoJSON).
Incident and closure injects get their place from the map (the 演练 dock's click / draw tools
fill ``lon``/``lat`` or the GeoJSON geometry) or typed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QWidget,
)

from dispatch.drills.script import KIND_ZH, KINDS
from gis.errors import ValidationError
from gis.model import IncidentCategory, Scenario
from gis.vocabulary import parse_level
from gui.entity_form import EntityDialog, combo, int_spin, level_combo, spin
from gui.i18n import tr, tr_noop

#: the key of the id an id-only inject names (as in the script file)
TARGET_KEYS = {
    "escalate": "incident_id",
    "reopen": "closure_id",
    "team_unavailable": "team_id",
    "stockpile_lost": "stockpile_id",
    "shelter_full": "shelter_id",
}
#: which list of ids each id-only inject picks from
TARGET_LISTS = {
    "escalate": "incidents",
    "reopen": "closures",
    "team_unavailable": "teams",
    "stockpile_lost": "stockpiles",
    "shelter_full": "shelters",
}


def inject_target(raw: Mapping[str, Any]) -> str:
    """The id an inject acts on, as the timeline shows it."""
    kind = str(raw.get("kind") or "")
    if kind in ("incident", "closure"):
        inner = raw.get(kind)
        return str(inner.get("id") or "") if isinstance(inner, Mapping) else ""
    key = TARGET_KEYS.get(kind)
    return str(raw.get(key) or raw.get("id") or "") if key else ""


def inject_details(raw: Mapping[str, Any]) -> str:
    """One plain line of what the inject does (the timeline's 详情 column)."""
    kind = str(raw.get("kind") or "")
    inner = raw.get(kind) if kind in ("incident", "closure") else None
    if kind == "incident" and isinstance(inner, Mapping):
        people = tr("{n} 人").format(n=inner.get("people", 0))
        return (
            f"{inner.get('name', '')} {inner.get('type', '')} {inner.get('level', '')} · "
            f"{people} · {inner.get('lon', '')}, {inner.get('lat', '')}"
        )
    if kind == "closure" and isinstance(inner, Mapping):
        geo = inner.get("geometry")
        gtype = geo.get("type", "?") if isinstance(geo, Mapping) else "—"
        speed = float(inner.get("speed_factor", 0) or 0)
        how = tr("封闭") if speed == 0 else tr("限速 ×{f:g}").format(f=speed)
        return f"{inner.get('name', '')} · {gtype} · {how}"
    if kind == "escalate":
        return f"{raw.get('level', '')} · " + tr("{n} 人").format(n=raw.get("people", ""))
    return ""


def known_ids(scenario: Scenario, injects: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Ids the id-only injects may name: the workspace's and those the script adds."""
    out = {
        "incidents": [i.id for i in scenario.incidents],
        "closures": [c.id for c in scenario.closures],
        "teams": [t.id for t in scenario.teams],
        "stockpiles": [s.id for s in scenario.stockpiles],
        "shelters": [s.id for s in scenario.shelters],
    }
    for raw in injects:
        kind = raw.get("kind")
        if kind in ("incident", "closure"):
            target = inject_target(raw)
            bucket = out["incidents" if kind == "incident" else "closures"]
            if target and target not in bucket:
                bucket.append(target)
    return out


class InjectDialog(EntityDialog):
    """Add or edit one inject; :attr:`entity` is the inject dict once accepted."""

    title = tr_noop("演练插入")

    def __init__(
        self,
        scenario: Scenario,
        raw: Mapping[str, Any],
        ids: Mapping[str, list[str]],
        subtypes: Sequence[str],
        parent: QWidget | None = None,
        *,
        new_ids: Mapping[str, str] | None = None,
    ) -> None:
        """``new_ids``: the id a new incident / closure inject gets unless one is typed."""
        super().__init__(scenario, parent)
        kind = str(raw.get("kind") or "incident")
        self.at_min = spin(float(raw.get("at_min", 0) or 0), 0, 100_000, 1, 5)
        self.kind = QComboBox()
        for k in KINDS:
            self.kind.addItem(tr(KIND_ZH[k]), k)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.form.addRow(tr("时间（开始后分钟）"), self.at_min)
        self.form.addRow(tr("插入类型"), self.kind)
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages)
        inc = raw.get("incident") if kind == "incident" else None
        inc = inc if isinstance(inc, Mapping) else {}
        clo = raw.get("closure") if kind == "closure" else None
        clo = clo if isinstance(clo, Mapping) else {}
        self._page = {}
        # incident
        p, f = self._new_page("incident")
        new_ids = new_ids or {}
        self.inc_id = QLineEdit(str(inc.get("id") or new_ids.get("incident", "")))
        self.inc_name = QLineEdit(str(inc.get("name", "")))
        self.inc_category = combo([c.value for c in IncidentCategory], inc.get("category"))
        self.inc_type = combo(list(subtypes), inc.get("type"), editable=True)
        self.inc_level = level_combo(_level(inc.get("level"), 4))
        self.lon = spin(float(inc.get("lon", 0) or 0), -180, 180, 6, 0.001)
        self.lat = spin(float(inc.get("lat", 0) or 0), -90, 90, 6, 0.001)
        self.inc_people = int_spin(int(inc.get("people", 0) or 0))
        self.inc_deadline = spin(float(inc.get("deadline_min", 0) or 0), 0, 10_000, 0, 10)
        self.inc_deadline.setSpecialValueText(tr("按预案"))
        for label, w in (
            (tr_noop("编号"), self.inc_id),
            (tr_noop("名称"), self.inc_name),
            (tr_noop("类别"), self.inc_category),
            (tr_noop("类型"), self.inc_type),
            (tr_noop("响应级别"), self.inc_level),
            (tr_noop("经度"), self.lon),
            (tr_noop("纬度"), self.lat),
            (tr_noop("受影响人数"), self.inc_people),
            (tr_noop("时限（分钟）"), self.inc_deadline),
        ):
            f.addRow(tr(label), w)
        # escalate
        p, f = self._new_page("escalate")
        self.esc_level = level_combo(_level(raw.get("level"), 2))
        self.esc_people = int_spin(int(raw.get("people", 0) or 0))
        self.targets: dict[str, QComboBox] = {}
        self.targets["escalate"] = self._target_combo("escalate", raw, ids)
        f.addRow(tr("事件"), self.targets["escalate"])
        f.addRow(tr("新响应级别"), self.esc_level)
        f.addRow(tr("新受影响人数"), self.esc_people)
        # closure
        p, f = self._new_page("closure")
        self.clo_id = QLineEdit(str(clo.get("id") or new_ids.get("closure", "")))
        self.clo_name = QLineEdit(str(clo.get("name", "")))
        self.clo_speed = spin(float(clo.get("speed_factor", 0) or 0), 0, 1, 2, 0.1)
        self.clo_speed.setSpecialValueText(tr("完全封闭"))
        self.clo_radius = spin(float(clo.get("radius_m", 50) or 50), 1, 5000, 0, 10)
        self.geometry = QPlainTextEdit(
            json.dumps(clo["geometry"], ensure_ascii=False) if clo.get("geometry") else ""
        )
        self.geometry.setPlaceholderText(tr("在地图上绘制，或填写 GeoJSON 几何"))
        self.geometry.setMaximumHeight(80)
        for label, w in (
            (tr_noop("编号"), self.clo_id),
            (tr_noop("名称"), self.clo_name),
            (tr_noop("速度系数（0 = 封闭）"), self.clo_speed),
            (tr_noop("影响半径（米）"), self.clo_radius),
            (tr_noop("几何（GeoJSON）"), self.geometry),
        ):
            f.addRow(tr(label), w)
        # the id-only kinds
        for k, label in (
            ("reopen", tr_noop("恢复的道路管制")),
            ("team_unavailable", tr_noop("队伍")),
            ("stockpile_lost", tr_noop("储备库")),
            ("shelter_full", tr_noop("避难场所")),
        ):
            p, f = self._new_page(k)
            self.targets[k] = self._target_combo(k, raw, ids)
            f.addRow(tr(label), self.targets[k])
        self.kind.currentIndexChanged.connect(self._show_page)
        self._show_page()
        self.finish_layout()

    def _new_page(self, kind: str) -> tuple[QWidget, QFormLayout]:
        page = QWidget(self.pages)
        form = QFormLayout(page)
        self.pages.addWidget(page)
        self._page[kind] = page
        return page, form

    def _target_combo(
        self, kind: str, raw: Mapping[str, Any], ids: Mapping[str, list[str]]
    ) -> QComboBox:
        current = inject_target(raw) if raw.get("kind") == kind else None
        return combo(ids.get(TARGET_LISTS[kind], []), current, editable=True)

    def _show_page(self) -> None:
        self.pages.setCurrentWidget(self._page[self.kind.currentData()])

    def set_point(self, lon: float, lat: float) -> None:
        """A place picked on the map (incident inject)."""
        self.lon.setValue(lon)
        self.lat.setValue(lat)

    def set_geometry(self, geojson: Mapping[str, Any]) -> None:
        """A geometry drawn on the map (closure inject)."""
        self.geometry.setPlainText(json.dumps(geojson, ensure_ascii=False))

    def build(self) -> dict[str, Any]:
        kind = str(self.kind.currentData())
        out: dict[str, Any] = {"at_min": round(self.at_min.value(), 1), "kind": kind}
        if kind == "incident":
            iid = self.inc_id.text().strip()
            if not iid:
                raise ValidationError(tr("请填写事件编号"))
            inc: dict[str, Any] = {
                "id": iid,
                "name": self.inc_name.text().strip() or iid,
                "category": self.inc_category.currentData(),
                "type": self.inc_type.currentText().strip(),
                "level": int(self.inc_level.currentData()),
                "lon": round(self.lon.value(), 6),
                "lat": round(self.lat.value(), 6),
                "people": int(self.inc_people.value()),
            }
            if self.inc_deadline.value() > 0:
                inc["deadline_min"] = self.inc_deadline.value()
            out["incident"] = inc
        elif kind == "closure":
            cid = self.clo_id.text().strip()
            if not cid:
                raise ValidationError(tr("请填写管制编号"))
            text = self.geometry.toPlainText().strip()
            try:
                geometry = json.loads(text) if text else None
            except json.JSONDecodeError as exc:
                raise ValidationError(tr("几何不是有效的 GeoJSON：{e}").format(e=exc)) from None
            if not isinstance(geometry, dict):
                raise ValidationError(tr("请在地图上绘制道路中断的位置，或填写 GeoJSON 几何"))
            out["closure"] = {
                "id": cid,
                "name": self.clo_name.text().strip() or cid,
                "speed_factor": self.clo_speed.value(),
                "radius_m": self.clo_radius.value(),
                "geometry": geometry,
            }
        else:
            target = self.targets[kind].currentText().strip()
            if not target:
                raise ValidationError(tr("请选择对象"))
            out[TARGET_KEYS[kind]] = target
            if kind == "escalate":
                out["level"] = int(self.esc_level.currentData())
                out["people"] = int(self.esc_people.value())
        return out


def _level(value: Any, default: int) -> int:
    try:
        return parse_level(value)
    except ValidationError:
        return default


__all__ = ["InjectDialog", "inject_details", "inject_target", "known_ids"]
