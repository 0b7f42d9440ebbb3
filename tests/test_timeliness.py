"""On time, late or unmet (issue 8, item 1) and safety stock released (item 3).

Checked on the demo county's plan against the routes and team dispatches in the same plan
(recomputed here independently), and on small variations of the demo: an incident whose deadline
no vehicle can meet (soft deadline: served late and said so; hard: unmet with the reason), safety
stock released for a level II incident and refused when no level may release it, and a plan saved
before lateness was recorded.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from dispatch.outcomes import ON_TIME_TOLERANCE_S
from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan import Plan
from dispatch.summary import summary_text
from dispatch.timeliness import NeedKind, NeedState, need_lines, plan_timeliness
from gis.model import Scenario


def _late_from_routes(plan: Plan, site: str, deadline: float) -> dict[str, float]:
    late: dict[str, float] = {}
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                if s.site_id == site and s.arrival_s > deadline + ON_TIME_TOLERANCE_S:
                    for k, v in s.loads.items():
                        late[k] = late.get(k, 0.0) + v
    return late


def test_demo_lateness_agrees_with_routes_and_teams(demo_plan: Plan, demo_scenario: Scenario):
    plan = demo_plan
    incidents = {i.id: i for i in demo_scenario.open_incidents()}
    weight = {m.code: m.unit_weight_kg for m in plan.materials}
    for o in plan.incidents:
        inc = incidents[o.incident_id]
        assert o.deadline_s == pytest.approx(inc.deadline_min * 60)
        late = _late_from_routes(plan, o.incident_id, o.deadline_s)
        assert {k: v for k, v in late.items() if v > 1e-9} == pytest.approx(dict(o.late))
        need_kg = sum(q * weight.get(c, 1.0) for c, q in o.needs.items())
        on_time_kg = sum(
            min(o.delivered.get(c, 0.0) - late.get(c, 0.0), q) * weight.get(c, 1.0)
            for c, q in o.needs.items()
        )
        assert o.on_time_fraction == pytest.approx(on_time_kg / need_kg)
        assert o.on_time_fraction <= o.served_fraction + 1e-9
        teams = [a for a in plan.assignment if a.incident_id == o.incident_id]
        assert set(o.late_teams) == {
            a.team_id for a in teams if a.eta_s > o.deadline_s + ON_TIME_TOLERANCE_S
        }
        assert o.staff_on_time_fraction <= o.staff_fraction + 1e-9
    # every need line adds up, and its state follows from its figures
    for ln in need_lines(plan):
        assert ln.on_time + ln.late + ln.unmet == pytest.approx(ln.requested)
        if ln.unmet > 1e-6:
            assert ln.state is NeedState.UNMET and ln.reason
        elif ln.late > 1e-6:
            assert ln.state is NeedState.LATE and ln.late_by_s > 0 and "迟到" in ln.reason
        else:
            assert ln.state is NeedState.ON_TIME
    tl = plan_timeliness(plan)
    text = summary_text(plan)
    assert ("全部需求均已按时安排" in text) == tl.all_on_time
    if tl.late_lines:
        assert f"{tl.late_lines} 项迟到" in text.splitlines()[0]
        assert "未满足或迟到" in text


def _one_incident(scenario: Scenario, deadline_min: float, **changes: Any) -> Scenario:
    inc = next(i for i in scenario.open_incidents() if i.needs)
    inc = dataclasses.replace(inc, deadline_min=deadline_min, affected_people=0, **changes)
    return scenario.replace(incidents=(inc,))


def test_impossible_deadline_soft_is_late_hard_is_unmet(demo_scenario: Scenario, demo_network):
    scenario = _one_incident(demo_scenario, 1.0)  # one minute: no depot is that close
    (inc,) = scenario.incidents
    soft = plan_dispatch(scenario, demo_network, DispatchOptions(seconds=1.0, evacuate=False))
    (o,) = soft.incidents
    assert o.served_fraction == pytest.approx(1.0)
    assert o.on_time_fraction == pytest.approx(0.0)
    assert o.late == pytest.approx(dict(o.delivered))
    assert o.late_by_s > 0
    lines = [ln for ln in need_lines(soft) if ln.kind is NeedKind.MATERIAL]
    assert lines and all(ln.state is NeedState.LATE for ln in lines)
    text = summary_text(soft)
    assert "全部需求均已" not in text
    assert "[迟到]" in text and "时限 1 分钟" in text
    hard = plan_dispatch(
        scenario,
        demo_network,
        DispatchOptions(seconds=1.0, evacuate=False, hard_deadlines=True, allow_late=False),
    )
    (h,) = hard.incidents
    assert h.late == {} and h.late_teams == ()
    hard_lines = [ln for ln in need_lines(hard) if ln.kind is NeedKind.MATERIAL]
    assert hard_lines and all(ln.state is NeedState.UNMET for ln in hard_lines)
    assert all(ln.reason for ln in hard_lines)
    assert "[未满足]" in summary_text(hard)


def test_safety_stock_release_is_reported_and_agrees_with_allocation(
    demo_plan: Plan, demo_scenario
):
    plan = demo_plan
    stockpiles = {s.id: s for s in demo_scenario.stockpiles}
    levels = {i.id: i.level for i in demo_scenario.incidents}
    from_lines = {
        (ln.stockpile_id, ln.material, ln.site_id): ln.from_safety_stock
        for ln in plan.allocation
        if ln.from_safety_stock > 0
    }
    assert from_lines, "the demo's level II flood should need some safety stock"
    got = {(r.stockpile_id, r.material, r.site_id): r.quantity for r in plan.safety_releases}
    assert got == pytest.approx(from_lines)
    for r in plan.safety_releases:
        assert r.safety_stock == stockpiles[r.stockpile_id].safety_stock[r.material]
        assert 0 < r.quantity <= r.safety_stock
        assert r.level == levels[r.site_id] and r.level in (1, 2)
    text = summary_text(plan)
    assert (
        f"动用安全库存 {len({(r.stockpile_id, r.material) for r in plan.safety_releases})} 项"
        in text
    )
    assert "安全库存" in text


def test_no_release_allowed_means_no_release_reported(demo_scenario: Scenario, demo_network):
    opts = DispatchOptions(seconds=1.0, evacuate=False, release_safety_levels=())
    plan = plan_dispatch(demo_scenario, demo_network, opts)
    assert plan.safety_releases == ()
    assert all(ln.from_safety_stock == 0 for ln in plan.allocation)
    assert "动用安全库存" not in summary_text(plan)


def test_plan_saved_before_lateness_loads_and_says_unknown(demo_plan: Plan) -> None:
    data = json.loads(demo_plan.to_json())
    data.pop("safety_releases")
    for o in data["incidents"]:
        for key in ("deadline_s", "on_time_fraction", "late", "late_teams", "late_by_s"):
            o.pop(key)
        o.pop("staff_on_time_fraction"), o.pop("evacuated_late")
    for ln in data["allocation"]:
        ln.pop("from_safety_stock")
    old = Plan.from_json(json.dumps(data))
    assert all(o.on_time_fraction is None for o in old.incidents)
    tl = plan_timeliness(old)
    assert tl.on_time_fraction is None
    text = summary_text(old)
    assert "全部需求均已按时安排" not in text
    if not old.unserved:
        assert "未记录是否按时" in text
