"""What to relax (issue 8, item 4): per late or unmet need the cheapest change, checked by
re-planning.

On the demo plan (its 先滩镇滑坡 deliveries are late with the default fleet): a vehicle
suggestion that, applied to the scenario and re-planned, makes the incident on time, and a
deadline suggestion that the plan's own routes meet. On small variations of the demo: a level III
incident short of a material held only as safety stock, a skill short while a resting team has
it, a material nobody holds (an honest "no change found"), and the CLI contract.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from dispatch.outcomes import incident_outcomes
from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan import Plan
from dispatch.relax import (
    AddVehicles,
    CallTeam,
    ChangeKind,
    RelaxDeadline,
    ReleaseSafetyStock,
    ReopenRoad,
    apply_change,
    round_deadline_min,
    suggest_relaxations,
)
from dispatch.results import Status
from dispatch.timeliness import NeedKind, NeedState, need_lines
from gis.model import RoadClosure, Scenario, TeamStatus

SLIDE = "INC-002"  # 先滩镇滑坡: late with the demo fleet


def _outcome(plan: Plan, site: str) -> Any:
    return next(o for o in plan.incidents if o.incident_id == site)


@pytest.fixture(scope="module")
def slide_report(demo_scenario: Scenario, demo_network: Any, demo_plan: Plan) -> Any:
    return suggest_relaxations(
        demo_scenario, demo_network, demo_plan, budget_s=40, solve_s=1.0, sites={SLIDE}
    )


def test_demo_late_incident_gets_a_verified_vehicle_fix(
    slide_report: Any, demo_scenario: Scenario, demo_network: Any, demo_plan: Plan
):
    before = _outcome(demo_plan, SLIDE).on_time_fraction
    late = [ln for ln in need_lines(demo_plan) if ln.site_id == SLIDE and ln.state.value != "按时"]
    if not late:
        pytest.skip("the demo plan happens to serve 先滩镇滑坡 on time in this run")
    assert {n.line.site_id for n in slide_report.needs} == {SLIDE}
    assert len(slide_report.needs) == len(late)
    vehicle = [
        s for n in slide_report.needs for s in n.suggestions if s.kind is ChangeKind.VEHICLES
    ]
    assert vehicle, [n.notes for n in slide_report.needs]
    s = vehicle[0]
    assert s.verified and s.state_after == NeedState.ON_TIME.value
    assert "辆" in s.text_zh and "按时送达" in s.text_zh and "→" in s.effect_zh
    change = s.change
    assert isinstance(change, AddVehicles) and 1 <= change.count <= 8
    # the same change (one needs-line group: the same change for every line it fixes)
    assert all(x.change == change for x in vehicle)
    # applied to the scenario and re-planned, the incident is on time (the routing heuristic
    # varies with the time it gets, which a loaded machine cuts: 5 s, the order of a desk's
    # re-plan, and the check is a clear improvement rather than exactly 100 %)
    scenario, options = apply_change(demo_scenario, DispatchOptions(seconds=5.0), change)
    fleet = {sp.id: len(sp.vehicles) for sp in demo_scenario.stockpiles}
    now = {sp.id: len(sp.vehicles) for sp in scenario.stockpiles}
    assert now[change.stockpile_id] == fleet[change.stockpile_id] + change.count
    if change.donor_id is not None:  # idle vehicles of that stockpile drive over
        assert now[change.donor_id] == fleet[change.donor_id] - change.count
        assert len(change.donor_vehicle_ids) == change.count and change.reposition_s > 0
        assert f"自{demo_plan.place_name(change.donor_id)}" in s.text_zh
    after = plan_dispatch(scenario, demo_network, options)
    assert _outcome(after, SLIDE).on_time_fraction >= before + 0.5


def test_demo_deadline_suggestion_is_met_by_the_plans_own_routes(
    slide_report: Any, demo_scenario: Scenario, demo_plan: Plan
):
    deadline = [
        s for n in slide_report.needs for s in n.suggestions if s.kind is ChangeKind.DEADLINE
    ]
    if not slide_report.needs:
        pytest.skip("nothing late at 先滩镇滑坡 in this run")
    assert deadline and all(s.verified for s in deadline)
    change = deadline[0].change
    assert isinstance(change, RelaxDeadline)
    assert f"放宽时限至 {change.deadline_min:g} 分钟" in deadline[0].text_zh
    worst = _outcome(demo_plan, SLIDE).late_by_s
    needed = (_outcome(demo_plan, SLIDE).deadline_s + worst) / 60.0
    assert change.deadline_min == round_deadline_min(needed) >= needed
    assert change.deadline_min % (15 if change.deadline_min > 60 else 5) == 0
    # recomputed here from the plan's routes with the new deadline: on time
    scenario, _ = apply_change(demo_scenario, DispatchOptions(), change)
    outcomes = incident_outcomes(
        scenario, demo_plan.allocation, demo_plan.routes, demo_plan.assignment
    )
    assert next(o for o in outcomes if o.incident_id == SLIDE).on_time_fraction == 1.0
    # and one step tighter is not enough (the smallest rounded deadline)
    step = 15 if change.deadline_min > 60 else 5
    tighter, _ = apply_change(
        demo_scenario, DispatchOptions(), RelaxDeadline(SLIDE, change.deadline_min - step)
    )
    if change.deadline_min - step < needed:
        outcomes = incident_outcomes(
            tighter, demo_plan.allocation, demo_plan.routes, demo_plan.assignment
        )
        assert next(o for o in outcomes if o.incident_id == SLIDE).on_time_fraction < 1.0


def test_round_deadline_min():
    assert round_deadline_min(41) == 45
    assert round_deadline_min(45) == 45
    assert round_deadline_min(60) == 60
    assert round_deadline_min(61) == 75
    assert round_deadline_min(119.5) == 120


def _small(scenario: Scenario, **incident: Any) -> Scenario:
    """The demo with one level III incident (先滩镇滑坡's place) and nobody to evacuate."""
    inc = next(i for i in scenario.incidents if i.id == SLIDE)
    inc = dataclasses.replace(inc, affected_people=0, level=3, deadline_min=240.0, **incident)
    return scenario.replace(incidents=(inc,))


def _plan(scenario: Scenario, network: Any) -> Plan:
    return plan_dispatch(scenario, network, DispatchOptions(seconds=1.0, evacuate=False))


def test_safety_stock_only_suggests_releasing_it(demo_scenario: Scenario, demo_network: Any):
    code = "TENT-BIG"
    sps = tuple(
        dataclasses.replace(
            sp,
            inventory={**sp.inventory, code: sp.safety_stock.get(code, 0)},
        )
        for sp in demo_scenario.stockpiles
    )
    assert sum(sp.safety_stock.get(code, 0) for sp in sps) >= 2
    scenario = _small(demo_scenario.replace(stockpiles=sps), needs={code: 2}, required_skills={})
    plan = _plan(scenario, demo_network)
    (line,) = [ln for ln in need_lines(plan) if ln.what == code]
    assert line.state is NeedState.UNMET and "库存不足" in line.reason
    report = suggest_relaxations(scenario, demo_network, plan, budget_s=20, solve_s=1.0)
    (need,) = [n for n in report.needs if n.line.what == code]
    (s,) = [x for x in need.suggestions if x.kind is ChangeKind.SAFETY_STOCK]
    assert s.verified and s.state_after != NeedState.UNMET.value
    assert s.text_zh.startswith("启用 ") and "安全库存" in s.text_zh
    assert isinstance(s.change, ReleaseSafetyStock)
    assert sum(q for _, q in s.change.releases) == pytest.approx(2.0)
    # applied and re-planned: served
    changed, options = apply_change(
        scenario, DispatchOptions(seconds=1.0, evacuate=False), s.change
    )
    after = plan_dispatch(changed, demo_network, options)
    (again,) = [ln for ln in need_lines(after) if ln.what == code]
    assert again.state is not NeedState.UNMET
    assert json.loads(json.dumps(report.to_dict()))["needs"][0]["suggestions"][0]["verified"]


def test_short_skill_with_a_resting_team_suggests_that_team(
    demo_scenario: Scenario, demo_network: Any
):
    skill = "医疗救护"
    standby = sum(
        t.headcount
        for t in demo_scenario.teams
        if skill in t.skills and t.status is TeamStatus.STANDBY
    )
    resting = [
        t for t in demo_scenario.teams if skill in t.skills and t.status is TeamStatus.RESTING
    ]
    assert resting, "the demo has a resting medical team"
    scenario = _small(demo_scenario, needs={}, required_skills={skill: standby + 5})
    plan = _plan(scenario, demo_network)
    (line,) = [ln for ln in need_lines(plan) if ln.kind is NeedKind.STAFF]
    assert line.state is NeedState.UNMET and line.unmet == pytest.approx(5)
    report = suggest_relaxations(scenario, demo_network, plan, budget_s=20, solve_s=1.0)
    (need,) = report.needs
    (s,) = [x for x in need.suggestions if x.kind is ChangeKind.TEAM]
    assert s.verified
    assert isinstance(s.change, CallTeam) and s.change.team_id in {t.id for t in resting}
    assert f"队伍 {s.change.team_id}" in s.text_zh and "休整结束后可满足" in s.text_zh


def test_a_material_nobody_holds_gets_an_honest_no(demo_scenario: Scenario, demo_network: Any):
    code = "LIGHTTOWER"
    sps = tuple(
        dataclasses.replace(
            sp,
            inventory={**sp.inventory, code: 0},
            safety_stock={**sp.safety_stock, code: 0},
        )
        for sp in demo_scenario.stockpiles
    )
    scenario = _small(demo_scenario.replace(stockpiles=sps), needs={code: 1}, required_skills={})
    plan = _plan(scenario, demo_network)
    report = suggest_relaxations(scenario, demo_network, plan, budget_s=10, solve_s=1.0)
    (need,) = report.needs
    assert need.line.state is NeedState.UNMET
    assert need.suggestions == ()
    assert any("未找到可行调整" in n and "县外" in n for n in need.notes)
    assert report.resolves == 0 and report.status is Status.OPTIMAL
    assert "未找到可行调整" in report.text()


def test_stop_and_budget_are_honest(demo_scenario: Scenario, demo_network: Any, demo_plan: Plan):
    if not any(ln.state is not NeedState.ON_TIME for ln in need_lines(demo_plan)):
        pytest.skip("nothing late in this run")
    cancelled = suggest_relaxations(
        demo_scenario, demo_network, demo_plan, budget_s=30, stop=lambda: True
    )
    assert cancelled.status is Status.CANCELLED and cancelled.resolves == 0
    assert cancelled.needs  # every late need is still listed
    tiny = suggest_relaxations(demo_scenario, demo_network, demo_plan, budget_s=0.5)
    assert tiny.status is Status.TIMEOUT and tiny.resolves == 0
    assert "时间预算" in tiny.text()
    # the deadline of late lines needs no re-plan: found even without time for one
    for n in tiny.needs:
        if n.line.state is NeedState.LATE:
            assert any(s.kind is ChangeKind.DEADLINE and s.verified for s in n.suggestions)


def test_hard_deadline_dropped_needs_get_a_checked_deadline(
    demo_scenario: Scenario, demo_network: Any
):
    scenario = _small(demo_scenario, needs={"WATER": 20, "FOOD": 10}, required_skills={})
    scenario = scenario.replace(
        incidents=(dataclasses.replace(scenario.incidents[0], deadline_min=10.0),)
    )
    options = DispatchOptions(seconds=1.0, evacuate=False, hard_deadlines=True)
    plan = plan_dispatch(scenario, demo_network, options)
    lines = [ln for ln in need_lines(plan) if ln.kind is NeedKind.MATERIAL]
    assert lines and all(ln.state is NeedState.UNMET and "超出时限" in ln.reason for ln in lines)
    report = suggest_relaxations(scenario, demo_network, plan, budget_s=20, solve_s=1.0)
    changes = set()
    for n in report.needs:
        (s,) = [x for x in n.suggestions if x.kind is ChangeKind.DEADLINE]
        assert s.verified and s.state_after == NeedState.ON_TIME.value
        changes.add(s.change)
    (change,) = changes  # one deadline for the incident's lines
    assert isinstance(change, RelaxDeadline) and change.deadline_min > 10
    # applied and re-planned with hard deadlines: served on time
    changed, opts = apply_change(scenario, options, change)
    after = plan_dispatch(changed, demo_network, opts)
    assert all(
        ln.state is NeedState.ON_TIME for ln in need_lines(after) if ln.kind is NeedKind.MATERIAL
    )


def test_a_site_cut_off_by_a_closure_suggests_reopening_it(
    demo_scenario: Scenario, demo_network: Any
):
    scenario = _small(demo_scenario, needs={"WATER": 20}, required_skills={})
    at = scenario.incidents[0].location
    closure = RoadClosure("RC-T", Point(at.lon, at.lat), reason="塌方", radius_m=300)
    far = RoadClosure("RC-FAR", Point(at.lon + 0.2, at.lat + 0.2), reason="积水", radius_m=50)
    scenario = scenario.replace(closures=(far, closure))
    plan = _plan(scenario, demo_network)
    (line,) = need_lines(plan)
    assert line.state is NeedState.UNMET and "不可达" in line.reason
    report = suggest_relaxations(scenario, demo_network, plan, budget_s=20, solve_s=1.0)
    (need,) = report.needs
    (s,) = need.suggestions
    assert s.kind is ChangeKind.ROAD and s.verified
    assert s.change == ReopenRoad("RC-T", "塌方")  # the nearest closure, tried first
    assert "抢通" in s.text_zh and "RC-T" in s.text_zh
    assert report.resolves == 1


def test_cli_relax_writes_json_and_refuses_a_foreign_plan(
    tmp_path: Path, demo_plan: Plan, capsys: pytest.CaptureFixture[str]
):
    from app import main

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(demo_plan.to_json(), encoding="utf-8")
    ws = Path(__file__).resolve().parents[1] / "data" / "hejiang_demo.gpkg"
    out = tmp_path / "out"
    rc = main(["relax", str(ws), "--plan", str(plan_file), "--out", str(out), "--seconds", "3"])
    assert rc == 0
    data = json.loads((out / "relax.json").read_text(encoding="utf-8"))
    late = [ln for ln in need_lines(demo_plan) if ln.state is not NeedState.ON_TIME]
    assert len(data["needs"]) == len(late)
    for need in data["needs"]:
        assert {"site_id", "what", "state", "suggestions"} <= set(need)
        assert need["state"] in ("迟到", "未满足")
        for s in need["suggestions"]:
            assert {"kind", "text_zh", "change", "verified", "effect"} <= set(s)
    printed = capsys.readouterr().out
    assert "relax.json" in printed
    if late:
        assert late[0].site_name in printed
    # a plan of another scenario: exit 2, one line on stderr
    foreign = json.loads(demo_plan.to_json())
    foreign["inputs"]["scenario_hash"] = "0" * 16
    bad = tmp_path / "foreign.json"
    bad.write_text(json.dumps(foreign), encoding="utf-8")
    rc = main(["relax", str(ws), "--plan", str(bad), "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert "not made from workspace" in err
    assert not (tmp_path / "o2" / "relax.json").exists()
    assert math.isfinite(float(data["runtime_s"]))
