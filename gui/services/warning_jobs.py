"""The desk's warnings job (Qt-free): pre-positioning for a warning, its map overlay, its records.

:func:`run_warning_job` runs :func:`dispatch.warnings.preposition.plan_preposition` and builds the
``preposition.json`` document of ``app.py warn`` on a :class:`gui.workers.JobRunner` thread;
:func:`warning_features` is the overlay ``RD.setCoverage`` draws (the warned hazard areas
outlined in the warning's colour, the staging points, a line per move); :func:`issue_records`,
:func:`lift_record`, :func:`escalate_records` and :func:`step_record` are what the session
records (``Session.record``: a document and an event-log entry, not an undoable edit); the
moved teams' 待命 status is the one undoable edit of issuing (:func:`issue_records` returns the
scenario to apply). Texts that reach the page as HTML are escaped here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely

from dispatch.plan import scenario_hash
from dispatch.records import PlanStatus
from dispatch.warnings.cli import preposition_json
from dispatch.warnings.lifecycle import PREPOSITIONS_DOCUMENT_KIND, step
from dispatch.warnings.preposition import PrepositionPlan, WarnRequest, plan_preposition
from dispatch.warnings.record import (
    not_filed,
    preposition_record,
    standby_teams,
    warning_record,
)
from gis.hazard_warnings import COLOUR_ZH, WARNINGS_DOCUMENT_KIND, escalate, find_warning, lift
from gis.model import Scenario
from gis.monitoring import MONITORING_DOCUMENT_KIND, Monitor, proposal
from gui.map_page import escape

__all__ = [
    "COLOUR_HEX",
    "monitor_record",
    "WarningJobRequest",
    "WarningJobResult",
    "Record",
    "escalate_records",
    "issue_records",
    "lift_record",
    "step_record",
    "run_warning_job",
    "warning_features",
]

#: The warning colours as drawn (GB/T 19201-style blue, yellow, orange, red).
COLOUR_HEX: Mapping[str, str] = {
    "blue": "#1f5fbf",
    "yellow": "#e0b000",
    "orange": "#f07800",
    "red": "#d01c1c",
}


@dataclass(frozen=True)
class WarningJobRequest:
    scenario: Scenario
    network: Any
    request: WarnRequest


@dataclass(frozen=True)
class WarningJobResult:
    plan: PrepositionPlan
    doc: dict[str, Any]
    features: dict[str, Any]
    computed_from: str = ""  # scenario_hash of the scenario the plan was computed from


#: ``(kind, key, text, log)``: one ``Session.record`` call.
Record = tuple[str, str, str, dict[str, Any] | None]


def warning_features(doc: Mapping[str, Any], scenario: Scenario) -> dict[str, Any]:
    """Hazard areas (in the warning's colour), the threatened villages, one straight line per
    move (source → staging point) and the staging points."""
    colour = COLOUR_HEX[doc["warning"]["colour"]]
    where = {
        e.id: (e.name, e.location.xy)
        for e in (*scenario.stockpiles, *scenario.shelters, *scenario.teams)
    }
    feats: list[dict[str, Any]] = []
    hazards = {h.id: h for h in scenario.hazards}
    for h in doc["warning"]["hazards"]:
        g = hazards[h["id"]].geometry
        area = g.buffer(0.003) if g.geom_type == "Point" else g  # ≈ 300 m around a point
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "area",
                    "color": colour,
                    "tip": f"{escape(doc['warning']['colour_zh'])}预警：{escape(h['name'])}",
                },
                "geometry": json.loads(shapely.to_geojson(area)),
            }
        )
    for m in doc["moves"]:
        a, b = where[m["from_id"]][1], where[m["to_id"]][1]
        what = (
            f"{escape(m['material_name'])} {m['quantity']} {escape(m['unit'])}"
            if m["kind"] == "stock"
            else f"{escape(m['from_name'])} 待命"
        )
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "move",
                    "color": "#6a3d9a" if m["kind"] == "team" else "#33a02c",
                    "tip": f"{escape(m['from_name'])} → {escape(m['to_name'])}：{what}",
                },
                "geometry": {"type": "LineString", "coordinates": [list(a), list(b)]},
            }
        )
    points = {d.id: d for d in scenario.demand_points}
    for e in doc["design_incidents"]:
        for sid in e["sites"]:
            d = points.get(sid)
            if d is None:
                continue
            feats.append(
                {
                    "type": "Feature",
                    "properties": {
                        "role": "threatened",
                        "color": colour,
                        "tip": f"受威胁：{escape(d.name)} · {d.population:,} 人",
                    },
                    "geometry": {"type": "Point", "coordinates": list(d.location.xy)},
                }
            )
    staged = {m["to_id"] for m in doc["moves"]}
    for sid in sorted(staged):
        name, (lon, lat) = where[sid]
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "staging",
                    "color": "#33a02c",
                    "tip": f"预置点：{escape(name)}",
                },
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def run_warning_job(job: WarningJobRequest, *, stop: Any, progress: Any) -> WarningJobResult:
    """Design incidents → staging → the plan (:func:`plan_preposition`), its JSON and overlay."""
    plan = plan_preposition(job.scenario, job.network, job.request, stop=stop, progress=progress)
    doc = preposition_json(plan, job.scenario)
    features = warning_features(doc, job.scenario)
    return WarningJobResult(plan, doc, features, scenario_hash(job.scenario))


def issue_records(
    result: WarningJobResult, scenario: Scenario, documents: Mapping[str, Mapping[str, str]] | None
) -> tuple[list[Record], Scenario, tuple[str, ...]]:
    """Issuing: the records (the warning with its moves; its 预置方案 in 草稿), ``scenario`` with
    the moved teams set to 待命, and the ids of the teams whose status that changes (apply it as
    an undoable edit). :class:`gis.hazard_warnings.WarningError` when the warning is already in
    ``documents``, or a moved team is missing or has been sent out (出动) since the plan was
    computed."""
    w = warning_record(result.plan, result.doc)
    not_filed(documents, w.id)
    teams = [m["team_id"] for m in result.doc["moves"] if m["kind"] == "team"]
    new_scenario, changed = standby_teams(scenario, teams)
    rec = preposition_record(w, result.computed_from)
    hazards = "、".join(h["name"] for h in result.doc["warning"]["hazards"])
    log = {
        "warning": w.id,
        "incident": f"预警 {w.id}",
        "from": "",
        "to": f"{w.colour_zh}预警",
        "text": f"发布{w.colour_zh}预警（{hazards}）；预置 {result.doc['movements']} 次调动，"
        f"{len(teams)} 支队伍待命；预置方案 {rec.number}（草稿）",
    }
    records: list[Record] = [
        (PREPOSITIONS_DOCUMENT_KIND, rec.number, rec.to_json(), None),
        (WARNINGS_DOCUMENT_KIND, w.id, json.dumps(w.to_json(), ensure_ascii=False), log),
    ]
    return records, new_scenario, changed


def step_record(
    documents: Mapping[str, Mapping[str, str]] | None,
    number: str,
    to: PlanStatus | str,
    who: str,
    when: datetime,
    note: str = "",
) -> Record:
    """A 预置方案's lifecycle step (:func:`dispatch.warnings.lifecycle.step`) as a record."""
    after, log = step(documents, number, to, who, when, note)
    return PREPOSITIONS_DOCUMENT_KIND, after.number, after.to_json(), log


def escalate_records(
    documents: Mapping[str, Mapping[str, str]] | None, warning_id: str, colour: str, at: datetime
) -> list[Record]:
    """Escalating (升级, :func:`gis.hazard_warnings.escalate`): the old warning marked 已升级,
    the new one at ``colour`` with the event-log entry."""
    old, new, log = escalate(find_warning(documents, warning_id), colour, at=at)
    return [
        (WARNINGS_DOCUMENT_KIND, old.id, json.dumps(old.to_json(), ensure_ascii=False), None),
        (WARNINGS_DOCUMENT_KIND, new.id, json.dumps(new.to_json(), ensure_ascii=False), log),
    ]


def lift_record(
    documents: Mapping[str, Mapping[str, str]] | None, warning_id: str, at: datetime
) -> tuple[str, str, str, dict[str, Any]]:
    """``(kind, key, text, log)`` for ``Session.record``: the warning lifted (解除)."""
    lifted, log = lift(find_warning(documents, warning_id), at)
    return WARNINGS_DOCUMENT_KIND, lifted.id, json.dumps(lifted.to_json(), ensure_ascii=False), log


def monitor_record(monitor: Monitor) -> tuple[str, str, str, dict[str, Any] | None]:
    """``(kind, key, text, log)`` for ``Session.record``: the monitor with its readings; the log
    entry names the warning its latest reading proposes (None when it proposes none)."""
    text = json.dumps(monitor.to_json(), ensure_ascii=False)
    p = proposal(monitor)
    log = None
    if p is not None:
        log = {"monitor": monitor.key, "incident": f"监测 {monitor.hazard_id}", "from": "",
               "to": f"建议{COLOUR_ZH[p.colour]}预警", "text": p.text}  # fmt: skip
    return MONITORING_DOCUMENT_KIND, monitor.key, text, log
