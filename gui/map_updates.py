"""Incremental map-layer updates for large layers (Qt-free).

An edit replaces one entity; rebuilding the payload of a 5,000-point layer (popups, JSON) and
redrawing it took over a second of GUI thread. For a layer above :data:`INCREMENTAL_AT`
entities — or when only a few entities changed (:data:`INCREMENTAL_FEW`: one record edited, here
or live from another desk) — :func:`layer_update` gives only what changed: the payload of the new or edited
entities (their objects differ: the scenario is immutable, untouched entities stay the same
objects) and the ids that are gone. ``RD.updateLayer`` applies it in the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gis.model import Scenario
from gui import map_page

#: layers larger than this are updated entity by entity (the page clusters them too)
INCREMENTAL_AT = 400

_MAKERS = {
    "shelters": map_page.shelter_points,
    "stockpiles": map_page.stockpile_points,
    "teams": map_page.team_points,
    "incidents": map_page.incident_points,
    "hazards": map_page.hazard_features,
    "demand_points": map_page.demand_points,
    "candidate_sites": map_page.candidate_points,
}


#: ... and any layer when at most this many of its entities changed (one record edited here or
#: by another desk on a shared database: rebuilding a 50-shelter layer's popups took ~60 ms)
INCREMENTAL_FEW = 8


def incremental(kind: str, old: Sequence[Any], new: Sequence[Any]) -> bool:
    """Update ``kind`` entity by entity (a large point or hazard layer, or a few entities)?"""
    if kind not in _MAKERS:
        return False
    if max(len(old), len(new)) > INCREMENTAL_AT:
        return True
    before = {id(e) for e in old}
    changed = sum(id(e) not in before for e in new)
    return changed + max(0, len(old) - len(new)) <= INCREMENTAL_FEW


def layer_update(scenario: Scenario, kind: str, old: Sequence[Any]) -> tuple[Any, list[str]]:
    """``(payload of the new/edited entities, ids removed)`` of ``kind`` from ``old`` to
    ``scenario``; the payload has the shape ``RD.setLayerData`` takes for that layer."""
    new = getattr(scenario, kind)
    before = {id(e) for e in old}
    changed = [e for e in new if id(e) not in before]
    now = {e.id for e in new}
    removed = [e.id for e in old if e.id not in now]
    return _MAKERS[kind](scenario, changed), removed
