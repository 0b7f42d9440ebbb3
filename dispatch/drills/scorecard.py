"""The drill scorecard: per-step figures from each plan and the totals over the drill.

Every figure comes from an existing definition: need states from
:func:`dispatch.timeliness.need_lines` (按时 / 迟到 / 未满足 per incident × material, skill and
evacuation group), deadlines from :func:`dispatch.timeliness.incident_deadlines`, vehicle
distance from the routes' ``distance_m``, order stability from ``plan.inputs.changes``, safety
stock from ``plan.safety_releases``. A drill step's plan is scored with its incidents' on-time
figures judged against each incident's deadline as a clock time (:func:`judged`), whichever
step a delivery, team arrival or evacuation move happened in.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dispatch.drills.runner import DrillStep
from dispatch.outcomes import ON_TIME_TOLERANCE_S, incident_outcomes
from dispatch.plan import Plan
from dispatch.records import ChangeKind
from dispatch.timeliness import NeedKind, NeedState, incident_deadlines, need_lines, plan_timeliness
from gis.model import Scenario

#: figures that depend only on what the solvers decide (not on the clock): compared across runs
DETERMINISTIC_KEYS = (
    "needs_on_time",
    "needs_late",
    "needs_unmet",
    "people_to_shelter",
    "people_sheltered_on_time",
    "teams_sent",
    "teams_on_site_on_time",
)


def changed_orders(plan: Plan) -> dict[str, int]:
    """Orders per change kind against the previous plan (all zero for a first plan)."""
    counts = Counter(c.change.value for c in plan.inputs.changes)
    return {k.value: int(counts.get(k.value, 0)) for k in ChangeKind}


def plan_metrics(plan: Plan) -> dict[str, Any]:
    """The figures of one plan."""
    lines = need_lines(plan)
    states = Counter(ln.state for ln in lines)
    people = [ln for ln in lines if ln.kind == NeedKind.PEOPLE]
    deadlines = incident_deadlines(plan)
    on_site = sum(
        1
        for a in plan.assignment
        if a.incident_id in deadlines and a.eta_s <= deadlines[a.incident_id] + ON_TIME_TOLERANCE_S
    )
    tl = plan_timeliness(plan)
    return {
        "status": plan.overall.value,
        "needs_on_time": int(states.get(NeedState.ON_TIME, 0)),
        "needs_late": int(states.get(NeedState.LATE, 0)),
        "needs_unmet": int(states.get(NeedState.UNMET, 0)),
        "served_fraction": round(float(tl.served_fraction), 4),
        "on_time_fraction": None
        if tl.on_time_fraction is None
        else round(float(tl.on_time_fraction), 4),
        "people_to_shelter": int(round(sum(ln.requested for ln in people))),
        "people_sheltered_on_time": int(round(sum(ln.on_time for ln in people))),
        "teams_sent": len(plan.assignment),
        "teams_on_site_on_time": int(on_site),
        "vehicle_km": round(sum(float(r.distance_m) for r in plan.routes) / 1000.0, 2),
        "safety_stock_used": round(sum(float(r.quantity) for r in plan.safety_releases), 3),
        "safety_stock_lines": len(plan.safety_releases),
    }


def judged(plan: Plan, scenario: Scenario, deadlines: Mapping[str, datetime]) -> Plan:
    """``plan`` with its incidents' on-time figures judged against each incident's deadline as
    a clock time (``deadlines``: :func:`dispatch.drills.runner.absolute_deadlines`) instead of
    the deadline left at the plan's time, which a drill step plans with and which is at least
    ``MIN_LEFT_MIN``: a delivery, an arrival or a move made after the deadline stays late in
    every later step, even when it was made before the step's inject (kept routes and teams:
    times before the plan's time). ``scenario``: the step's state (the needs the plan
    served); the outcomes are those of :func:`dispatch.outcomes.incident_outcomes` from the
    plan's own allocation, routes, teams and moves. Incidents without a clock keep theirs."""
    if not deadlines:
        return plan
    base = plan.created_at
    fresh = {
        o.incident_id: o
        for o in incident_outcomes(
            scenario,
            plan.allocation,
            plan.routes,
            plan.assignment,
            plan.evacuation,
            deadlines_s={k: (end - base).total_seconds() for k, end in deadlines.items()},
        )
    }
    return dataclasses.replace(
        plan, incidents=tuple(fresh.get(o.incident_id, o) for o in plan.incidents)
    )


def step_record(step: DrillStep, plan_dir: str | None, state: dict[str, Any]) -> dict[str, Any]:
    """The step as drill.json lists it."""
    inj = step.inject
    plan = step.plan
    rec: dict[str, Any] = {
        "step": step.number,
        "at_min": 0.0 if inj is None else float(inj.at_min),
        "kind": "baseline" if inj is None else inj.kind,
        "target": None if inj is None else inj.target,
        "text": "演练开始（基准方案）" if inj is None else f"{inj.kind_zh}：{inj.text}",
        "simulated_at": step.simulated_at.isoformat(timespec="seconds"),
        "wall_clock": step.wall_clock.isoformat(timespec="seconds"),
        "wall_s": round(step.wall_s, 3),
        "plan_dir": plan_dir,
        "plan_number": None if plan is None else plan.number,
        "first_plan_s": None
        if plan is None or plan.inputs.first_plan_s is None
        else round(float(plan.inputs.first_plan_s), 3),
        "changed_orders": None if plan is None else changed_orders(plan),
        "metrics": dict(state)
        if plan is None
        else {**plan_metrics(judged(plan, step.scenario, step.deadlines)), "state": state},
    }
    if step.preposition is not None:
        pre = rec["preposition"] = dict(step.preposition)
        rec["text"] += (
            f"；预置：{pre['problem']}"
            if "problem" in pre
            else f"；预置 {pre['movements']} 次调动，受威胁区域按时 "
            f"{pre['threatened_before'] or 0:.0%}→{pre['threatened_after'] or 0:.0%}"
        )
    return rec


def overall(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Totals over the inject steps (the baseline is not an inject): wall time, first-plan
    seconds, orders changed; the needs and people of the last plan (the drill's end state)."""
    planned = [r for r in records if r["plan_dir"] is not None and r["kind"] != "baseline"]
    out: dict[str, Any] = {
        "steps": sum(1 for r in records if r["kind"] != "baseline"),
        "planned_steps": len(planned),
        "wall_s_total": round(sum(r["wall_s"] for r in records), 3),
    }
    if not planned:
        out["note"] = "未自动调度（无 --auto）：各步骤只列出情景状态，没有方案"
        return out
    firsts = [r["first_plan_s"] for r in planned if r["first_plan_s"] is not None]
    out["first_plan_s_max"] = round(max(firsts), 3) if firsts else None
    out["first_plan_s_mean"] = round(sum(firsts) / len(firsts), 3) if firsts else None
    out["wall_s_max"] = round(max(r["wall_s"] for r in planned), 3)
    out["orders_changed_total"] = sum(
        r["changed_orders"][k] for r in planned for k in ("changed", "new", "cancelled")
    )
    last = planned[-1]["metrics"]
    for key in (*DETERMINISTIC_KEYS, "served_fraction", "on_time_fraction", "vehicle_km"):
        out[f"final_{key}"] = last[key]
    out["safety_stock_used_max"] = max(r["metrics"]["safety_stock_used"] for r in planned)
    out["worst_needs_unmet"] = max(r["metrics"]["needs_unmet"] for r in planned)
    return out


__all__ = [
    "DETERMINISTIC_KEYS",
    "changed_orders",
    "judged",
    "overall",
    "plan_metrics",
    "step_record",
]
