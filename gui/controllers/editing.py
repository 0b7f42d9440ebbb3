"""The editing controller: the desk's editing commands as calls on the :class:`Session`.

Add, edit, delete and move entities, change an incident's status, make a closure from a drawn
GeoJSON geometry. Every change goes through the session (one undo step each); problems are
reported with ``sig_error`` rather than raised. The forms (dialogs) are the window's business:
it asks :meth:`EditController.new_entity` for a default entity, shows a form, and hands the
result back to :meth:`add` or :meth:`save_edit`.
"""

from __future__ import annotations

import json
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from gis.model import INCIDENT_STATUS_ORDER, Incident, IncidentStatus, RoadClosure, Scenario
from gis.vocabulary import ID_PREFIX
from gui.editors import closure_from_geometry, default_entity
from gui.i18n import tr
from gui.session import Session
from gui.table_models import TITLES

ENTITY_KINDS = (
    "incidents",
    "stockpiles",
    "shelters",
    "teams",
    "hazards",
    "closures",
    "demand_points",
    "candidate_sites",
)


def kind_of(scenario: Scenario, entity_id: str) -> str | None:
    """The entity kind (``"shelters"``, …) of ``entity_id`` in ``scenario`` (None: unknown)."""
    for kind in ENTITY_KINDS:
        if any(e.id == entity_id for e in getattr(scenario, kind)):
            return kind
    return None


class EditController(QObject):
    """Editing commands on a session (no widgets)."""

    #: (title, message, details) of a command that could not be carried out
    sig_error = pyqtSignal(str, str, str)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.last_closure_id: str | None = None
        self._templates: dict[str, Any] | None = None

    def kind_of(self, entity_id: str) -> str | None:
        return kind_of(self.session.scenario, entity_id)

    def templates(self) -> dict[str, Any]:
        """The 预案 templates (read once; empty, with an error reported, if unreadable)."""
        if self._templates is None:
            try:
                from gis.catalogue import load_plan_templates

                self._templates = load_plan_templates()
            except Exception as exc:
                self.sig_error.emit(tr("预案模板无法读取"), str(exc), "")
                self._templates = {}
        return self._templates

    # ---- entities ------------------------------------------------------------------------------

    def new_entity(self, kind: str, lon: float, lat: float) -> Any:
        """A new ``kind`` entity at ``lon, lat`` with a fresh id and defaults (not added yet)."""
        entity_id = self.session.new_id(ID_PREFIX[kind])
        return default_entity(kind, entity_id, lon, lat, self.session.scenario)

    def add(self, kind: str, entity: Any) -> None:
        """Add a new entity (an incident is logged as reported and selected)."""
        if kind == "incidents":
            self.session.add_incident(entity)
            self.session.select(entity.id, "editor")
            return
        self.session.upsert(
            entity, tr("添加{what} {name}").format(what=tr(TITLES[kind]), name=entity.name)
        )

    def save_edit(self, kind: str, entity: Any) -> None:
        """Replace an existing entity by its edited version (an incident's status change is
        logged)."""
        if kind == "incidents" and isinstance(entity, Incident):
            self.session.update_incident(entity)
            return
        self.session.upsert(
            entity, tr("编辑 {name}").format(name=getattr(entity, "name", entity.id))
        )

    def display_name(self, entity_id: str) -> str:
        entity = self.session.scenario.find(entity_id)
        return getattr(entity, "name", "") or getattr(entity, "reason", "") or entity_id

    def delete(self, entity_id: str) -> bool:
        """Remove an entity (undoable); False if unknown."""
        if self.kind_of(entity_id) is None:
            return False
        name = self.display_name(entity_id)
        self.session.remove(entity_id, tr("删除 {name}").format(name=name))
        return True

    def move(self, entity_id: str, lon: float, lat: float) -> bool:
        """Move a point entity (one undo step for consecutive drags); False if refused."""
        try:
            self.session.move(entity_id, lon, lat, tr("移动 {id}").format(id=entity_id))
        except Exception as exc:  # e.g. dragged outside valid coordinates
            self.sig_error.emit(tr("无法移动 {id}").format(id=entity_id), str(exc), "")
            return False
        return True

    # ---- incidents -----------------------------------------------------------------------------

    def change_incident_status(self, incident_id: str, status: str) -> bool:
        if not incident_id:
            return False
        try:
            self.session.set_incident_status(incident_id, IncidentStatus(status))
        except (KeyError, ValueError) as exc:
            self.sig_error.emit(tr("无法变更事件状态"), str(exc), "")
            return False
        return True

    def advance_incident(self, incident_id: str) -> bool:
        """Move an incident to the next lifecycle stage (接报→研判→调度→处置中→结束)."""
        if not incident_id:
            return False
        inc = self.session.scenario.find(incident_id)
        order = list(INCIDENT_STATUS_ORDER)
        i = order.index(inc.status)
        if i + 1 >= len(order):
            return False
        return self.change_incident_status(incident_id, order[i + 1].value)

    # ---- closures ------------------------------------------------------------------------------

    def closure_from_geojson(self, text: str, reason: str = "") -> RoadClosure | None:
        """A new closure (not added yet) from a drawn GeoJSON geometry; None if it is unusable."""
        from shapely.geometry import shape

        try:
            geom = shape(json.loads(text))
        except Exception as exc:
            self.sig_error.emit(tr("无法识别绘制的图形"), str(exc), text[:500])
            return None
        closure_id = self.session.new_id(ID_PREFIX["closures"])
        try:
            closure = closure_from_geometry(closure_id, geom, reason)
        except Exception as exc:
            self.sig_error.emit(tr("道路管制无效"), str(exc), "")
            return None
        self.last_closure_id = closure_id
        return closure

    def add_closure(self, closure: RoadClosure) -> None:
        self.session.upsert(closure, tr("添加道路管制 {id}").format(id=closure.id))
