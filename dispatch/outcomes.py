"""What each incident asked for and what a plan gives it — served, on time, late — and the safety
stock it releases.

Everything here is computed from the plan's own decisions (allocation lines, vehicle routes,
team dispatches, evacuation moves) against the incidents' deadlines, so the figures in
``plan.json`` agree with the routes and the assignment in the same file. Time base: seconds after
the plan time, the same as a route stop's ``arrival_s`` and a team's ``eta_s``; an incident's
``deadline_min`` (golden hour) is read in that base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dispatch.records import (
    AllocationLine,
    EvacuationMove,
    IncidentOutcome,
    SafetyStockRelease,
    TeamDispatch,
    VehicleRoute,
)
from gis.model import Scenario

#: Arrivals up to this many seconds after a deadline count as on time (the solvers work in whole
#: seconds; the plan stores floats).
ON_TIME_TOLERANCE_S = 1.0


def _add(d: dict[str, float], key: str, value: float) -> None:
    d[key] = d.get(key, 0.0) + value


def incident_outcomes(
    scenario: Scenario,
    lines: Sequence[AllocationLine],
    routes: Sequence[VehicleRoute],
    assignment: Sequence[TeamDispatch],
    moves: Sequence[EvacuationMove] = (),
    *,
    deadlines_s: Mapping[str, float] | None = None,
) -> tuple[IncidentOutcome, ...]:
    """One :class:`IncidentOutcome` per open incident, with on-time and late figures.

    ``deadlines_s`` (incident id → seconds after the plan's time) replaces an incident's
    ``deadline_min``: a drill's deadline as a clock time, which may have passed before the
    plan's time (negative; :func:`dispatch.drills.scorecard.judged`)."""
    mats = scenario.material_index
    deadlines = {inc.id: float(inc.deadline_min) * 60.0 for inc in scenario.open_incidents()}
    if deadlines_s is not None:
        deadlines.update({k: float(v) for k, v in deadlines_s.items() if k in deadlines})
    # grouped once by site (a scan of every line and stop per incident would be quadratic)
    allocated_at: dict[str, dict[str, float]] = {}
    for ln in lines:
        _add(allocated_at.setdefault(ln.site_id, {}), ln.material, ln.quantity)
    delivered_at: dict[str, dict[str, float]] = {}
    late_at: dict[str, dict[str, float]] = {}
    late_by: dict[str, float] = {}
    for r in routes:
        for t in r.trips:
            for s in t.stops:
                d = delivered_at.setdefault(s.site_id, {})
                for k, v in s.loads.items():
                    _add(d, k, v)
                deadline = deadlines.get(s.site_id)
                if deadline is not None and s.arrival_s > deadline + ON_TIME_TOLERANCE_S:
                    late = late_at.setdefault(s.site_id, {})
                    for k, v in s.loads.items():
                        _add(late, k, v)
                    late_by[s.site_id] = max(late_by.get(s.site_id, 0.0), s.arrival_s - deadline)
    teams_at: dict[str, list[TeamDispatch]] = {}
    for a in assignment:
        teams_at.setdefault(a.incident_id, []).append(a)
    late_people: dict[str, int] = {}
    for m in moves:
        deadline = deadlines.get(m.group_id)
        if deadline is not None and m.travel_s > deadline + ON_TIME_TOLERANCE_S:
            late_people[m.group_id] = late_people.get(m.group_id, 0) + int(m.people)

    def kg(d: Mapping[str, float]) -> float:
        return sum(q * (mats[c].unit_weight_kg if c in mats else 1.0) for c, q in d.items())

    out = []
    for inc in scenario.open_incidents():
        deadline = deadlines[inc.id]
        allocated = allocated_at.get(inc.id, {})
        delivered = delivered_at.get(inc.id, {})
        late = {c: q for c, q in late_at.get(inc.id, {}).items() if q > 1e-9}
        need_kg = kg(inc.needs)
        got = {c: min(delivered.get(c, 0.0), q) for c, q in inc.needs.items()}
        in_time = {
            c: min(max(0.0, delivered.get(c, 0.0) - late.get(c, 0.0)), q)
            for c, q in inc.needs.items()
        }
        teams = teams_at.get(inc.id, [])
        on_time_teams = [a for a in teams if a.eta_s <= deadline + ON_TIME_TOLERANCE_S]
        late_teams = tuple(a.team_id for a in teams if a.eta_s > deadline + ON_TIME_TOLERANCE_S)
        covered = _covered(inc.required_skills, teams)
        covered_in_time = _covered(inc.required_skills, on_time_teams)
        need_staff = sum(inc.required_skills.values())
        worst = late_by.get(inc.id, 0.0)
        for a in teams:
            worst = max(worst, a.eta_s - deadline if a.team_id in late_teams else 0.0)
        out.append(
            IncidentOutcome(
                inc.id,
                inc.name,
                inc.level,
                dict(inc.needs),
                allocated,
                delivered,
                1.0 if need_kg <= 0 else min(1.0, kg(got) / need_kg),
                dict(inc.required_skills),
                covered,
                1.0 if need_staff <= 0 else sum(covered.values()) / need_staff,
                tuple(a.team_id for a in teams),
                {
                    c: q - delivered.get(c, 0.0)
                    for c, q in allocated.items()
                    if q - delivered.get(c, 0.0) > 1e-9
                },
                deadline_s=deadline,
                on_time_fraction=1.0 if need_kg <= 0 else min(1.0, kg(in_time) / need_kg),
                late=late,
                late_teams=late_teams,
                staff_on_time_fraction=(
                    1.0 if need_staff <= 0 else sum(covered_in_time.values()) / need_staff
                ),
                late_by_s=worst,
                evacuated_late=late_people.get(inc.id, 0),
            )
        )
    return tuple(out)


def _covered(required: Mapping[str, int], teams: Sequence[TeamDispatch]) -> dict[str, int]:
    """Required headcount per skill that ``teams`` cover (capped at the requirement)."""
    covered: dict[str, int] = {}
    for skill, n in required.items():
        covered[skill] = min(
            n,
            sum(
                a.contributes.get(skill, 0)
                if a.contributes
                else (a.headcount if skill in a.skills else 0)
                for a in teams
            ),
        )
    return covered


def safety_stock_releases(
    scenario: Scenario, lines: Sequence[AllocationLine]
) -> tuple[SafetyStockRelease, ...]:
    """The safety stock the allocation sends out, per stockpile, material and site."""
    stockpiles = {sp.id: sp for sp in scenario.stockpiles}
    levels = {inc.id: int(inc.level) for inc in scenario.incidents}
    out = []
    for ln in lines:
        if ln.from_safety_stock <= 1e-9:
            continue
        sp = stockpiles.get(ln.stockpile_id)
        out.append(
            SafetyStockRelease(
                ln.stockpile_id,
                ln.material,
                float(ln.from_safety_stock),
                float(sp.safety_stock.get(ln.material, 0.0)) if sp is not None else 0.0,
                ln.site_id,
                levels.get(ln.site_id, 0),
            )
        )
    return tuple(out)


__all__ = ["ON_TIME_TOLERANCE_S", "incident_outcomes", "safety_stock_releases"]
