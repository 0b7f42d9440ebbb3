"""What to relax: the changes a suggestion proposes, the suggestion and report types, and
:func:`apply_change` (a change made to a copy of the scenario and the options, the way the search
in :mod:`dispatch.relax` re-plans with it and the way a caller applies it).

Plain frozen data; ``to_dict`` gives the JSON of ``app.py relax`` (``relax.json``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatch.options import DispatchOptions
from dispatch.results import Status
from dispatch.timeliness import NeedLine
from gis.model import Scenario


class ChangeKind(StrEnum):
    VEHICLES = "vehicles"
    DEADLINE = "deadline"
    SAFETY_STOCK = "safety_stock"
    TEAM = "team"
    ROAD = "road"


@dataclass(frozen=True, slots=True)
class AddVehicles:
    """``count`` more vehicles like ``template_id`` at stockpile ``stockpile_id``; ``donor_id``
    is the stockpile whose idle vehicles ``donor_vehicle_ids`` would drive there (None: hired or
    requisitioned at the stockpile itself), ``reposition_s`` that drive."""

    stockpile_id: str
    kind: str
    count: int
    template_id: str
    donor_id: str | None = None
    reposition_s: float = 0.0
    donor_vehicle_ids: tuple[str, ...] = ()

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.VEHICLES


@dataclass(frozen=True, slots=True)
class RelaxDeadline:
    incident_id: str
    deadline_min: float

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.DEADLINE


@dataclass(frozen=True, slots=True)
class ReleaseSafetyStock:
    """Release ``quantity`` of ``material``'s safety stock at each stockpile listed."""

    material: str
    releases: tuple[tuple[str, float], ...]  # (stockpile_id, quantity)

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.SAFETY_STOCK


@dataclass(frozen=True, slots=True)
class CallTeam:
    """Send team ``team_id`` (status ``status``; ``busy_at``: the incident it is sent to in the
    plan, if any) to ``incident_id``."""

    team_id: str
    incident_id: str
    status: str
    busy_at: str = ""

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.TEAM


@dataclass(frozen=True, slots=True)
class ReopenRoad:
    """Clear road closure ``closure_id`` (抢通)."""

    closure_id: str
    reason: str = ""

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.ROAD


Change = AddVehicles | RelaxDeadline | ReleaseSafetyStock | CallTeam | ReopenRoad


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One change for one need, the words for it and what the check found."""

    kind: ChangeKind
    text_zh: str
    text_en: str
    change: Change
    verified: bool
    effect_zh: str
    effect_en: str = ""
    state_after: str = ""  # the need's state with the change (按时 / 迟到 / 未满足)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "change": {"type": type(self.change).__name__, **_plain(self.change)},
            "verified": bool(self.verified),
            "effect": self.effect_zh,
            "effect_en": self.effect_en,
            "state_after": self.state_after,
        }


@dataclass(frozen=True, slots=True)
class NeedRelaxation:
    """A late or unmet need line and the changes that fix it (cheapest first)."""

    line: NeedLine
    suggestions: tuple[Suggestion, ...] = ()
    notes: tuple[str, ...] = ()  # what was tried and did not work, in words

    def to_dict(self) -> dict[str, Any]:
        ln = self.line
        return {
            "site_id": ln.site_id,
            "site_name": ln.site_name,
            "kind": ln.kind.value,
            "what": ln.what,
            "label": ln.label,
            "state": ln.state.value,
            "late_by_s": float(ln.late_by_s),
            "unmet": float(ln.unmet),
            "reason": ln.reason,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class RelaxationReport:
    """Every late or unmet need of a plan with its suggestions. ``status``: OPTIMAL when every
    group was searched, TIMEOUT when the budget ran out first, CANCELLED when stopped."""

    plan_number: str
    needs: tuple[NeedRelaxation, ...]
    status: Status
    resolves: int
    runtime_s: float
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan_number,
            "status": self.status.value,
            "resolves": int(self.resolves),
            "runtime_s": round(float(self.runtime_s), 2),
            "notes": list(self.notes),
            "needs": [n.to_dict() for n in self.needs],
        }

    def text(self) -> str:
        """The report as lines an operator reads (Chinese)."""
        if not self.needs:
            return f"方案 {self.plan_number}：全部需求均已按时安排，无需调整。"
        out = [f"方案 {self.plan_number}：{len(self.needs)} 项需求迟到或未满足"]
        # lines of one site with the same state, reason and suggestions are shown as one
        groups: dict[tuple[Any, ...], list[NeedRelaxation]] = {}
        for n in self.needs:
            ln = n.line
            texts = tuple((s.text_zh, s.effect_zh, s.verified) for s in n.suggestions)
            groups.setdefault((ln.site_id, ln.state, ln.reason, texts, n.notes), []).append(n)
        for same in groups.values():
            n, ln = same[0], same[0].line
            labels = "、".join(x.line.label for x in same)
            out.append(f"· {ln.site_name} {labels}：{ln.state.value}（{ln.reason}）")
            for s in n.suggestions:
                out.append(f"    - {s.text_zh}［{s.effect_zh if s.verified else '未验证'}］")
            for note in n.notes:
                out.append(f"    - {note}")
        out.append(
            f"共重新求解 {self.resolves} 次，用时 {self.runtime_s:.1f} 秒"
            + {Status.CANCELLED: "（已取消）", Status.TIMEOUT: "（时间预算用完）"}.get(
                self.status, ""
            )
        )
        out += [f"注：{x}" for x in self.notes]
        return "\n".join(out)


def _plain(change: Change) -> dict[str, Any]:
    d = {f.name: getattr(change, f.name) for f in dataclasses.fields(change)}
    return {k: [list(x) for x in v] if isinstance(v, tuple) else v for k, v in d.items()}


# --------------------------------------------------------------------------------------------
# Applying a change
# --------------------------------------------------------------------------------------------


def apply_change(
    scenario: Scenario, options: DispatchOptions, change: Change | CombinedChange
) -> tuple[Scenario, DispatchOptions]:
    """The scenario and options with ``change`` made (what a person would do before re-planning).

    Vehicles: clones of the template vehicle at the stockpile (ids ``<template>+1`` …; the
    donor's own vehicles stay: they are idle in the plan). Deadline: the incident's
    ``deadline_min``. Safety stock: lowered by the released quantity. Team: pinned to the
    incident (a pin overrides the team's status)."""
    if isinstance(change, CombinedChange):
        for part in change.parts:
            scenario, options = apply_change(scenario, options, part)
        return scenario, options
    if isinstance(change, AddVehicles):
        tpl = _vehicle(scenario, change.template_id)
        sps = []
        for sp in scenario.stockpiles:
            if sp.id == change.stockpile_id:
                extra = tuple(
                    dataclasses.replace(tpl, id=added_vehicle_id(tpl.id, k), home_id=sp.id, name="")
                    for k in range(1, change.count + 1)
                )
                sp = dataclasses.replace(sp, vehicles=sp.vehicles + extra)
            elif sp.id == change.donor_id:  # the donor's vehicles leave it
                kept = tuple(v for v in sp.vehicles if v.id not in change.donor_vehicle_ids)
                sp = dataclasses.replace(sp, vehicles=kept)
            sps.append(sp)
        return scenario.replace(stockpiles=tuple(sps)), options
    if isinstance(change, RelaxDeadline):
        inc = scenario.find(change.incident_id)
        return (
            scenario.upsert(dataclasses.replace(inc, deadline_min=float(change.deadline_min))),
            options,
        )
    if isinstance(change, ReopenRoad):
        return scenario.remove(change.closure_id), options
    if isinstance(change, ReleaseSafetyStock):
        out = scenario
        for sp_id, q in change.releases:
            sp = out.find(sp_id)
            ss = dict(sp.safety_stock)
            ss[change.material] = max(0.0, float(ss.get(change.material, 0.0)) - float(q))
            out = out.upsert(dataclasses.replace(sp, safety_stock=ss))
        return out, options
    pins = tuple(p for p in options.pins if p[0] != change.team_id)
    forbids = tuple(p for p in options.forbids if p != (change.team_id, change.incident_id))
    pins += ((change.team_id, change.incident_id),)
    return scenario, dataclasses.replace(options, pins=pins, forbids=forbids)


def added_vehicle_id(template_id: str, k: int) -> str:
    """Id of the ``k``-th vehicle added like ``template_id`` (``VH-011+1`` …)."""
    return f"{template_id}+{k}"


def _vehicle(scenario: Scenario, vehicle_id: str) -> Any:
    for sp in scenario.stockpiles:
        for v in sp.vehicles:
            if v.id == vehicle_id:
                return v
    raise KeyError(vehicle_id)


@dataclass(frozen=True, slots=True)
class CombinedChange:
    """Several changes checked in one re-plan (e.g. the safety stock of every short material)."""

    parts: tuple[Change, ...]

    @property
    def change_kind(self) -> ChangeKind:
        return ChangeKind.SAFETY_STOCK


__all__ = [
    "AddVehicles",
    "CallTeam",
    "Change",
    "ChangeKind",
    "CombinedChange",
    "NeedRelaxation",
    "RelaxDeadline",
    "RelaxationReport",
    "ReleaseSafetyStock",
    "ReopenRoad",
    "Suggestion",
    "added_vehicle_id",
    "apply_change",
]
