"""On time, late or unmet (按时 / 迟到 / 未满足): the state of every need line of a plan.

One definition, read by every place a person sees a plan (CLI summary, GUI overview and the
未满足或迟到 tab, PDF cover, XLSX summary, the approval review): per incident and material, per
incident and required skill, and per evacuation group, how much was asked, how much arrives by
the deadline, how much arrives late (and by how much), and how much is not served, with the
reason. The figures come from the plan's :class:`~dispatch.records.IncidentOutcome` records and
its team dispatches and unserved records, which :mod:`dispatch.outcomes` computed from the
routes, so they agree with the routes in the same ``plan.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from dispatch.outcomes import ON_TIME_TOLERANCE_S
from dispatch.plan import Plan
from dispatch.records import IncidentOutcome

_EPS = 1e-6

#: the reason given a need allocated but put on no vehicle
NOT_LOADED = "已分配但未装车"


class NeedState(StrEnum):
    ON_TIME = "按时"
    LATE = "迟到"
    UNMET = "未满足"

    @property
    def label_en(self) -> str:
        return {"按时": "on time", "迟到": "late", "未满足": "unmet"}[self.value]


class NeedKind(StrEnum):
    MATERIAL = "物资"
    STAFF = "人员"
    PEOPLE = "转移"


@dataclass(frozen=True, slots=True)
class NeedLine:
    """One need of one site and how the plan meets it.

    ``requested`` = ``on_time`` + ``late`` + ``unmet`` (in ``unit``); ``late_by_s`` is the worst
    lateness of this line (0 when nothing is late); ``reason`` says why a line is late or unmet in
    words an operator reads.
    """

    site_id: str
    site_name: str
    kind: NeedKind
    what: str  # material code, skill, or "people"
    label: str
    unit: str
    requested: float
    on_time: float
    late: float
    unmet: float
    state: NeedState
    late_by_s: float = 0.0
    deadline_s: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PlanTimeliness:
    """Plan-wide shares (by weight for materials, by headcount for staff, by people moved)."""

    served_fraction: float
    on_time_fraction: float | None  # None: a plan saved before lateness was recorded
    staff_fraction: float
    staff_on_time_fraction: float | None
    late_lines: int
    unmet_lines: int
    worst_late_s: float

    @property
    def all_on_time(self) -> bool:
        """Everything served and on time (the only case that may say "全部需求均已按时安排")."""
        return self.late_lines == 0 and self.unmet_lines == 0


def minutes_text(seconds: float) -> str:
    """``seconds`` as whole minutes for people (never "0 分钟" for a real delay)."""
    return f"{max(1, round(seconds / 60.0))} 分钟" if seconds > 0 else "0 分钟"


def incident_deadlines(plan: Plan) -> dict[str, float]:
    """Deadline (``deadline_s``, the plan's time base) of every incident that records one."""
    return {o.incident_id: o.deadline_s for o in plan.incidents if o.deadline_s is not None}


def arrival_late_s(deadline_s: float | None, arrival_s: float) -> float:
    """How late an arrival (a stop's ``arrival_s``, a team's ``eta_s``) is against
    ``deadline_s``: 0 when on time (within :data:`ON_TIME_TOLERANCE_S`) or without a deadline.
    The same rule as :func:`dispatch.outcomes.incident_outcomes` uses for the plan's figures."""
    if deadline_s is None or arrival_s <= deadline_s + ON_TIME_TOLERANCE_S:
        return 0.0
    return float(arrival_s - deadline_s)


def _late_reason(late_by_s: float, deadline_s: float | None) -> str:
    limit = f"（时限 {deadline_s / 60.0:.0f} 分钟）" if deadline_s is not None else ""
    return f"迟到 {minutes_text(late_by_s)}{limit}"


def _state(late: float, unmet: float) -> NeedState:
    if unmet > _EPS:
        return NeedState.UNMET
    return NeedState.LATE if late > _EPS else NeedState.ON_TIME


def _material_lines(plan: Plan, o: IncidentOutcome) -> list[NeedLine]:
    lateness = _stop_lateness(plan, o)
    out = []
    for code, asked in o.needs.items():
        delivered = min(float(o.delivered.get(code, 0.0)), float(asked))
        late = min(float(o.late.get(code, 0.0)), delivered)
        unmet = max(0.0, float(asked) - delivered)
        reasons = [u.message_zh for u in plan.unserved_for(o.incident_id) if u.what == code]
        if unmet > _EPS and not reasons and o.undelivered.get(code, 0.0) > _EPS:
            reasons = [NOT_LOADED]
        late_by = lateness.get(code, 0.0) if late > _EPS else 0.0
        if late > _EPS:
            reasons.append(_late_reason(late_by, o.deadline_s))
        out.append(
            NeedLine(
                o.incident_id,
                o.name,
                NeedKind.MATERIAL,
                code,
                plan.material_label(code),
                plan.material_unit(code),
                float(asked),
                delivered - late,
                late,
                unmet,
                _state(late, unmet),
                late_by,
                o.deadline_s,
                "；".join(reasons),
            )
        )
    return out


def _stop_lateness(plan: Plan, o: IncidentOutcome) -> dict[str, float]:
    """Worst lateness per material of the stops at ``o``'s site."""
    if o.deadline_s is None or not o.late:
        return {}
    worst: dict[str, float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                if s.site_id != o.incident_id or s.arrival_s <= o.deadline_s + ON_TIME_TOLERANCE_S:
                    continue
                for code in s.loads:
                    worst[code] = max(worst.get(code, 0.0), s.arrival_s - o.deadline_s)
    return worst


def _staff_lines(plan: Plan, o: IncidentOutcome) -> list[NeedLine]:
    teams = [a for a in plan.assignment if a.incident_id == o.incident_id]
    late_ids = set(o.late_teams)
    out = []
    for skill, asked in o.required_skills.items():
        covered = int(o.covered_skills.get(skill, 0))

        def gives(a, skill=skill) -> int:  # noqa: ANN001
            return (
                a.contributes.get(skill, 0)
                if a.contributes
                else (a.headcount if skill in a.skills else 0)
            )

        on_time = min(covered, sum(gives(a) for a in teams if a.team_id not in late_ids))
        late = covered - on_time
        unmet = max(0, int(asked) - covered)
        late_by = 0.0
        reasons = [u.message_zh for u in plan.unserved_for(o.incident_id) if u.what == skill]
        if late > 0 and o.deadline_s is not None:
            late_by = max(
                (a.eta_s - o.deadline_s for a in teams if a.team_id in late_ids and gives(a) > 0),
                default=0.0,  # a plan whose figures disagree with its teams (hand-made, old)
            )
            names = "、".join(a.team_id for a in teams if a.team_id in late_ids and gives(a) > 0)
            reasons.append(f"{names} {_late_reason(late_by, o.deadline_s)}")
        out.append(
            NeedLine(
                o.incident_id,
                o.name,
                NeedKind.STAFF,
                skill,
                skill,
                "人",
                float(asked),
                float(on_time),
                float(late),
                float(unmet),
                _state(late, unmet),
                late_by,
                o.deadline_s,
                "；".join(reasons),
            )
        )
    return out


def _people_line(plan: Plan, o: IncidentOutcome) -> NeedLine | None:
    moves = [m for m in plan.evacuation if m.group_id == o.incident_id]
    missing = [u for u in plan.unserved_for(o.incident_id) if u.what == "people"]
    moved = sum(int(m.people) for m in moves)
    unmet = sum(float(u.quantity) for u in missing)
    if moved == 0 and unmet <= _EPS:
        return None
    late = float(min(o.evacuated_late, moved))
    late_by = 0.0
    reasons = [u.message_zh for u in missing]
    if late > 0 and o.deadline_s is not None:
        late_by = max(m.travel_s - o.deadline_s for m in moves)
        reasons.append(f"转移{_late_reason(late_by, o.deadline_s)}")
    return NeedLine(
        o.incident_id,
        o.name,
        NeedKind.PEOPLE,
        "people",
        "转移人员",
        "人",
        moved + unmet,
        moved - late,
        late,
        unmet,
        _state(late, unmet),
        late_by,
        o.deadline_s,
        "；".join(reasons),
    )


def need_lines(plan: Plan) -> tuple[NeedLine, ...]:
    """Every need of every incident (materials, skills, evacuation), then unmet needs of other
    sites (shelter supplies), in plan order."""
    out: list[NeedLine] = []
    incident_ids = set()
    for o in plan.incidents:
        incident_ids.add(o.incident_id)
        out += _material_lines(plan, o)
        out += _staff_lines(plan, o)
        people = _people_line(plan, o)
        if people is not None:
            out.append(people)
    for u in plan.unserved:
        if u.site_id in incident_ids or u.what == "visit":
            continue
        out.append(
            NeedLine(
                u.site_id,
                plan.place_name(u.site_id),
                NeedKind.PEOPLE if u.what == "people" else NeedKind.MATERIAL,
                u.what,
                plan.material_label(u.what),
                plan.material_unit(u.what),
                float(u.quantity),
                0.0,
                0.0,
                float(u.quantity),
                NeedState.UNMET,
                reason=u.message_zh,
            )
        )
    return tuple(out)


def plan_timeliness(plan: Plan) -> PlanTimeliness:
    """Plan-wide served and on-time shares and the count of late and unmet need lines."""
    kg = {m.code: m.unit_weight_kg for m in plan.materials}

    def w(code: str, q: float) -> float:
        return q * kg.get(code, 1.0)

    need = served = in_time = 0.0
    staff = staff_served = staff_in_time = 0.0
    known = all(o.on_time_fraction is not None for o in plan.incidents)
    lines = need_lines(plan)
    problems = problem_lines(plan, lines)
    incident_ids = {o.incident_id for o in plan.incidents}
    for ln in lines:
        if ln.kind is NeedKind.MATERIAL and ln.site_id in incident_ids:
            need += w(ln.what, ln.requested)
            served += w(ln.what, ln.on_time + ln.late)
            in_time += w(ln.what, ln.on_time)
        elif ln.kind is NeedKind.STAFF:
            staff += ln.requested
            staff_served += ln.on_time + ln.late
            staff_in_time += ln.on_time
    return PlanTimeliness(
        served_fraction=1.0 if need <= 0 else served / need,
        on_time_fraction=(1.0 if need <= 0 else in_time / need) if known else None,
        staff_fraction=1.0 if staff <= 0 else staff_served / staff,
        staff_on_time_fraction=(1.0 if staff <= 0 else staff_in_time / staff) if known else None,
        late_lines=sum(1 for ln in problems if ln.state is NeedState.LATE),
        unmet_lines=sum(1 for ln in problems if ln.state is NeedState.UNMET),
        worst_late_s=max((ln.late_by_s for ln in lines), default=0.0),
    )


def problem_lines(plan: Plan, lines: tuple[NeedLine, ...] | None = None) -> list[NeedLine]:
    """What the 未满足或迟到 tables list: every need line that is not 按时
    (:func:`need_lines`), then every vehicle visit that no route makes
    (routing's ``visit`` records: which stockpile → site trip, and why), so no unserved record
    of the plan goes unlisted. A need allocated but put on no vehicle is given the reasons of
    its site's missing visits (e.g. "已分配但未装车：超出时限")."""
    visits: dict[str, list[Any]] = {}
    for u in plan.unserved:
        if u.what == "visit":
            visits.setdefault(u.site_id, []).append(u)
    out = []
    for ln in need_lines(plan) if lines is None else lines:
        if ln.state is NeedState.ON_TIME:
            continue
        if ln.reason == NOT_LOADED and ln.site_id in visits:
            why = "、".join(sorted({u.reason.value for u in visits[ln.site_id]}))
            ln = replace(ln, reason=f"{NOT_LOADED}：{why}")
        out.append(ln)
    for site_visits in visits.values():
        for u in site_visits:
            out.append(
                NeedLine(
                    u.site_id,
                    plan.place_name(u.site_id),
                    NeedKind.MATERIAL,
                    u.what,
                    plan.material_label(u.what),
                    plan.material_unit(u.what),
                    float(u.quantity),
                    0.0,
                    0.0,
                    float(u.quantity),
                    NeedState.UNMET,
                    reason=u.message_zh,
                )
            )
    return out


def problem_quantity(line: NeedLine) -> float:
    """The quantity a 未满足或迟到 row is about: what is missing, else what arrives late."""
    return line.unmet if line.state is NeedState.UNMET else line.late


__all__ = [
    "NOT_LOADED",
    "problem_lines",
    "problem_quantity",
    "NeedKind",
    "NeedLine",
    "NeedState",
    "PlanTimeliness",
    "arrival_late_s",
    "incident_deadlines",
    "minutes_text",
    "need_lines",
    "plan_timeliness",
]
