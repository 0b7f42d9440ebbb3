"""The drill script (演练脚本): ``{"name", "start", "injects": [{"at_min", "kind", ...}, ...]}``.

Inject kinds and their payload (ids are the workspace's, or those an earlier inject added):

- ``incident``: ``"incident": {"id", "name", "category", "type", "level", "lon", "lat",
  "people", "deadline_min"}`` — needs and required skills come from the 预案 template of its
  type and level (:func:`gis.catalogue.template_needs`, as the GUI's incident editor fills
  them); ``deadline_min`` given overrides the template's;
- ``escalate``: ``"incident_id", "level", "people"`` — needs re-derived from the template;
- ``closure``: ``"closure": {"id", "name", "speed_factor" (0 = full, default), "radius_m",
  "geometry": GeoJSON Point / LineString / Polygon}``;
- ``reopen``: ``"closure_id"``; ``team_unavailable``: ``"team_id"``;
  ``stockpile_lost``: ``"stockpile_id"``; ``shelter_full``: ``"shelter_id"``;
- ``warning``: ``"hazard_id", "colour"`` (blue/yellow/orange/red) — the runner plans the
  pre-positioning for it and scores it (:mod:`dispatch.warnings.drill`).

:func:`load_script` validates the whole script before anything runs: an unknown id, a time
earlier than the inject before it, a closure without geometry, an incident or closure outside
the county raise :class:`DrillScriptError` naming the inject (number from 1 and kind).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from gis.catalogue import load_plan_templates, template_needs
from gis.errors import ReliefDeskError, ValidationError
from gis.hazard_warnings import COLOUR_ZH, COLOURS
from gis.model import Incident, IncidentCategory, Location, RoadClosure, Scenario
from gis.placement import outside_county
from gis.vocabulary import parse_level

KINDS = (
    "incident",
    "escalate",
    "closure",
    "reopen",
    "team_unavailable",
    "stockpile_lost",
    "shelter_full",
    "warning",
)

KIND_ZH = {
    "incident": "新增事件",
    "escalate": "事件升级",
    "closure": "道路中断",
    "reopen": "道路恢复",
    "team_unavailable": "队伍不可用",
    "stockpile_lost": "储备点损毁",
    "shelter_full": "安置点满员",
    "warning": "发布预警",
}

#: the key naming the target of each id-only inject
_TARGET_KEY = {
    "escalate": "incident_id",
    "reopen": "closure_id",
    "team_unavailable": "team_id",
    "stockpile_lost": "stockpile_id",
    "shelter_full": "shelter_id",
    "warning": "hazard_id",
}


class DrillScriptError(ValidationError):
    """A drill script that cannot run; the message names the inject."""


@dataclass(frozen=True)
class Inject:
    """One validated inject. ``target`` is the id it acts on (the new incident's or closure's
    id for ``incident`` / ``closure``)."""

    index: int  # 1-based position in the script
    at_min: float
    kind: str
    target: str
    text: str  # one Chinese line for the timeline
    incident: Incident | None = None
    closure: RoadClosure | None = None
    level: int | None = None
    people: int | None = None
    needs: Mapping[str, float] = field(default_factory=dict)
    skills: Mapping[str, int] = field(default_factory=dict)
    colour: str = ""  # warning: blue/yellow/orange/red

    @property
    def kind_zh(self) -> str:
        return KIND_ZH[self.kind]


@dataclass(frozen=True)
class DrillScript:
    name: str
    start: datetime
    injects: tuple[Inject, ...]


def _fail(n: int, kind: str, message: str) -> DrillScriptError:
    return DrillScriptError(f"inject #{n} ({kind}): {message}")


def _number(n: int, kind: str, data: Mapping[str, Any], key: str, default: Any = None) -> float:
    value = data.get(key, default)
    if value is None:
        raise _fail(n, kind, f"missing '{key}'")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(n, kind, f"'{key}' is not a number: {value!r}") from None
    if not math.isfinite(x):
        raise _fail(n, kind, f"'{key}' is not a finite number: {value!r}")
    return x


def _template(
    n: int, kind: str, scenario: Scenario, templates: Any, subtype: str, level: int, people: int
) -> tuple[dict[str, float], dict[str, int], float]:
    if subtype not in templates:
        raise _fail(n, kind, f"no 预案 template for type {subtype!r}")
    try:
        needs, skills, deadline = template_needs(
            templates, subtype, level, people, materials=scenario.material_index
        )
    except ReliefDeskError as exc:
        raise _fail(n, kind, str(exc)) from None
    known = {m.code for m in scenario.materials}
    if known:
        needs = {k: v for k, v in needs.items() if k in known}
    return needs, skills, deadline


def _incident(
    n: int, raw: Any, scenario: Scenario, templates: Any, when: datetime, ids: set[str]
) -> Inject:
    kind = "incident"
    if not isinstance(raw, Mapping):
        raise _fail(n, kind, "missing 'incident' object")
    iid = str(raw.get("id") or "").strip()
    if not iid:
        raise _fail(n, kind, "missing incident 'id'")
    if iid in ids:
        raise _fail(n, kind, f"incident id {iid!r} already exists")
    lon, lat = _number(n, kind, raw, "lon"), _number(n, kind, raw, "lat")
    if not (abs(lon) <= 180 and abs(lat) <= 90):
        raise _fail(n, kind, f"coordinates out of range: {lon}, {lat}")
    if outside_county(scenario, lon, lat):
        raise _fail(n, kind, f"point {lon:.6f}, {lat:.6f} is outside the county ({scenario.name})")
    try:
        level = parse_level(raw.get("level"), where="level")
        category = IncidentCategory(str(raw.get("category") or IncidentCategory.NATURAL.value))
    except (ReliefDeskError, ValueError) as exc:
        raise _fail(n, kind, str(exc)) from None
    people = int(_number(n, kind, raw, "people", 0))
    subtype = str(raw.get("type") or "").strip()
    needs, skills, deadline = _template(n, kind, scenario, templates, subtype, level, people)
    if raw.get("deadline_min") is not None:
        deadline = _number(n, kind, raw, "deadline_min")
    try:
        inc = Incident(
            iid,
            str(raw.get("name") or iid),
            category,
            subtype,
            level,
            Location(lon, lat),
            when,
            affected_people=people,
            needs=needs,
            required_skills=skills,
            deadline_min=deadline,
        )
    except ReliefDeskError as exc:
        raise _fail(n, kind, str(exc)) from None
    return Inject(
        n, 0.0, kind, iid, f"{inc.name}（{subtype}，{inc.level_roman}级，{people} 人）", inc
    )


def _closure(n: int, raw: Any, scenario: Scenario, when: datetime, ids: set[str]) -> Inject:
    kind = "closure"
    if not isinstance(raw, Mapping):
        raise _fail(n, kind, "missing 'closure' object")
    cid = str(raw.get("id") or "").strip()
    if not cid:
        raise _fail(n, kind, "missing closure 'id'")
    if cid in ids:
        raise _fail(n, kind, f"closure id {cid!r} already exists")
    geo = raw.get("geometry")
    if not geo:
        raise _fail(n, kind, f"closure {cid!r} has no geometry (GeoJSON Point/LineString/Polygon)")
    try:
        geom = shape(geo)
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise _fail(n, kind, f"closure {cid!r}: invalid GeoJSON geometry ({exc})") from None
    if geom.is_empty:
        raise _fail(n, kind, f"closure {cid!r} has an empty geometry")
    if scenario.boundary is not None and not scenario.boundary.intersects(geom):
        x, y = shapely.get_coordinates(geom)[0]
        raise _fail(n, kind, f"point {x:.6f}, {y:.6f} is outside the county ({scenario.name})")
    speed = _number(n, kind, raw, "speed_factor", 0.0)
    name = str(raw.get("name") or cid)
    try:
        closure = RoadClosure(
            cid, geom, name, _number(n, kind, raw, "radius_m", 50.0), speed, since=when
        )
    except ReliefDeskError as exc:
        raise _fail(n, kind, str(exc)) from None
    how = "封闭" if closure.closes else f"限速（速度 ×{speed:g}）"
    return Inject(n, 0.0, kind, cid, f"{name}：{how}", closure=closure)


def parse_script(data: Any, scenario: Scenario) -> DrillScript:
    """The script ``data`` (parsed JSON) checked against ``scenario``; DrillScriptError if not."""
    if not isinstance(data, Mapping):
        raise DrillScriptError("drill script: expected a JSON object with name, start, injects")
    try:
        start = datetime.fromisoformat(str(data.get("start") or ""))
    except ValueError:
        raise DrillScriptError(
            f"drill script: 'start' is not an ISO time: {data.get('start')!r}"
        ) from None
    injects = data.get("injects")
    if not isinstance(injects, list) or not injects:
        raise DrillScriptError("drill script: 'injects' must be a non-empty list")
    templates = load_plan_templates()
    incidents = {i.id: i for i in scenario.incidents}
    closures = {c.id for c in scenario.closures}
    teams = {t.id for t in scenario.teams}
    stockpiles = {s.id for s in scenario.stockpiles}
    shelters = {s.id for s in scenario.shelters}
    known = {
        "escalate": incidents,
        "reopen": closures,
        "team_unavailable": teams,
        "stockpile_lost": stockpiles,
        "shelter_full": shelters,
        "warning": {h.id for h in scenario.hazards},
    }
    out: list[Inject] = []
    last = -math.inf
    for n, raw in enumerate(injects, start=1):
        if not isinstance(raw, Mapping):
            raise DrillScriptError(f"inject #{n}: expected an object")
        kind = str(raw.get("kind") or "")
        if kind not in KINDS:
            raise DrillScriptError(
                f"inject #{n} ({kind or '?'}): unknown kind; one of {', '.join(KINDS)}"
            )
        at = _number(n, kind, raw, "at_min")
        if at < 0:
            raise _fail(n, kind, f"at_min {at:g} is before the start")
        if at < last:
            raise _fail(
                n,
                kind,
                f"at_min {at:g} is earlier than the inject before it ({last:g}): out of order",
            )
        last = at
        when = start + timedelta(minutes=at)
        if kind == "incident":
            inj = _incident(n, raw.get("incident"), scenario, templates, when, set(incidents))
            incidents[inj.target] = inj.incident  # type: ignore[assignment]
        elif kind == "closure":
            inj = _closure(n, raw.get("closure"), scenario, when, closures)
            closures.add(inj.target)
        else:
            key = _TARGET_KEY[kind]
            target = str(raw.get(key) or raw.get("id") or "").strip()
            if not target:
                raise _fail(n, kind, f"missing '{key}'")
            if target not in known[kind]:
                raise _fail(n, kind, f"unknown id {target!r} ({key})")
            inj = Inject(n, at, kind, target, target)
            if kind == "reopen":
                closures.discard(target)
            elif kind == "warning":
                colour = str(raw.get("colour") or "").strip().lower()
                if colour not in COLOURS:
                    raise _fail(n, kind, f"colour must be one of {'|'.join(COLOURS)}, got {colour!r}")
                inj = Inject(n, at, kind, target, f"{target} {COLOUR_ZH[colour]}预警", colour=colour)
            elif kind == "escalate":
                inj = _escalate(n, raw, scenario, templates, incidents[target])
                incidents[target] = dataclasses.replace(
                    incidents[target], level=inj.level, affected_people=inj.people
                )
        out.append(dataclasses.replace(inj, at_min=at))
    return DrillScript(str(data.get("name") or "演练"), start, tuple(out))


def _escalate(
    n: int, raw: Mapping[str, Any], scenario: Scenario, templates: Any, inc: Incident
) -> Inject:
    kind = "escalate"
    try:
        level = parse_level(raw.get("level", inc.level), where="level")
    except ReliefDeskError as exc:
        raise _fail(n, kind, str(exc)) from None
    people = int(_number(n, kind, raw, "people", inc.affected_people))
    if people < 0:
        raise _fail(n, kind, f"people must be ≥ 0, got {people}")
    needs: Mapping[str, float] = inc.needs
    skills: Mapping[str, int] = inc.required_skills
    if inc.subtype in templates:
        needs, skills, _ = _template(n, kind, scenario, templates, inc.subtype, level, people)
    roman = ("I", "II", "III", "IV")[level - 1]
    return Inject(
        n, 0.0, kind, inc.id, f"{inc.name} 升级为 {roman} 级，{people} 人", level=level,
        people=people, needs=needs, skills=skills,
    )  # fmt: skip


def load_script(path: Path | str, scenario: Scenario) -> DrillScript:
    """Read and validate the script file at ``path`` (UTF-8 JSON)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DrillScriptError(f"drill script {path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DrillScriptError(f"drill script {path}: not valid JSON ({exc})") from None
    return parse_script(data, scenario)


__all__ = [
    "KINDS",
    "KIND_ZH",
    "DrillScript",
    "DrillScriptError",
    "Inject",
    "load_script",
    "parse_script",
]
