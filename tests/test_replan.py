"""Re-plans from the current plan on the demo county (issue 8 item 6).

The session's demo plan (``demo_plan``, 2 s) is the current plan; a real road it drives is closed
(:func:`dispatch.replan.closure_on_route`) and the plan is re-planned with ``previous=``: the
first complete plan arrives through ``on_first_plan`` before the run ends, the routes avoid the
closed road, the served share is that of a scratch solve with the same budget, the orders that
changed are listed, issued orders are kept unless they cross the closure, and plans without the
new fields still load. Timing goals are in ``benchmarks/bench_replan.py``, not here.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan import Plan
from dispatch.records import ChangeKind, OrderKind
from dispatch.replan import KEPT_ISSUED, closure_on_route
from dispatch.results import Status
from gis.model import Scenario

SECONDS = 2.0


def served_share(plan: Plan, scenario: Scenario) -> float:
    """Delivered / needed material weight over the open incidents."""
    kg = {m.code: m.unit_weight_kg for m in scenario.materials}
    need = sum(q * kg[c] for o in plan.incidents for c, q in o.needs.items())
    got = sum(
        min(q, o.delivered.get(c, 0.0)) * kg[c] for o in plan.incidents for c, q in o.needs.items()
    )
    return got / need


def drives_through(plan: Plan, point: tuple[float, float]) -> list[str]:
    """Orders (vehicles and teams) whose road path passes the closure point."""
    return [o.number for o in plan.orders for leg in o.legs if point in leg.coords]


@pytest.fixture(scope="module")
def closed(demo_plan: Plan, demo_scenario: Scenario) -> tuple[Scenario, tuple[float, float]]:
    closure = closure_on_route(demo_plan)
    assert closure is not None
    point = (closure.geometry.x, closure.geometry.y)
    assert drives_through(demo_plan, point), "the closure must be on a road the plan uses"
    return dataclasses.replace(demo_scenario, closures=(*demo_scenario.closures, closure)), point


@pytest.fixture(scope="module")
def replanned(
    demo_plan: Plan, closed: tuple[Scenario, tuple[float, float]], demo_network: Any
) -> tuple[Plan, list[Plan], float]:
    scenario, _ = closed
    firsts: list[Plan] = []
    t0 = time.perf_counter()
    plan = plan_dispatch(
        scenario,
        demo_network,
        DispatchOptions(seconds=SECONDS),
        previous=demo_plan,
        on_first_plan=firsts.append,
    )
    return plan, firsts, time.perf_counter() - t0


def test_warm_replan_gives_a_complete_first_plan_then_the_final_one(
    replanned: tuple[Plan, list[Plan], float], demo_plan: Plan
) -> None:
    plan, firsts, wall = replanned
    assert len(firsts) == 1
    first = firsts[0]
    assert first.number == plan.number  # the final plan replaces it
    assert first.inputs.first_plan_s == plan.inputs.first_plan_s
    assert 0 < plan.inputs.first_plan_s <= wall
    # complete: every stage ran, routes and orders for every vehicle used, nothing cancelled
    assert all(s.status != Status.CANCELLED for s in first.stages)
    assert {r.vehicle_id for r in first.routes if r.trips} == {
        o.unit_id for o in first.transfer_orders
    }
    assert first.inputs.previous_plan == demo_plan.number
    # the final plan is at least as good as the first one (routing objective, lower is better)
    obj = {p.number + str(i): s.objective for i, p in enumerate((first, plan)) for s in p.stages}
    assert plan.stages[-1].objective <= first.stages[-1].objective + 1e-6, obj


def test_warm_replan_avoids_the_closed_road_and_serves_as_much_as_scratch(
    replanned: tuple[Plan, list[Plan], float],
    closed: tuple[Scenario, tuple[float, float]],
    demo_network: Any,
) -> None:
    plan, firsts, _ = replanned
    scenario, point = closed
    assert drives_through(plan, point) == []
    assert drives_through(firsts[0], point) == []
    scratch = plan_dispatch(scenario, demo_network, DispatchOptions(seconds=SECONDS))
    assert scratch.inputs.previous_plan == "" and scratch.inputs.changes == ()
    assert served_share(plan, scenario) >= served_share(scratch, scenario) - 1e-9


def test_changed_orders_are_listed_against_the_previous_plan(
    replanned: tuple[Plan, list[Plan], float],
    demo_plan: Plan,
    closed: tuple[Scenario, tuple[float, float]],
) -> None:
    plan, _, _ = replanned
    _, point = closed
    changes = {c.unit_id: c for c in plan.inputs.changes}
    units = {r.vehicle_id for r in (*demo_plan.routes, *plan.routes) if r.trips}
    units |= {a.team_id for a in (*demo_plan.assignment, *plan.assignment)}
    assert set(changes) == units
    crossing = {o.unit_id for o in demo_plan.orders for leg in o.legs if point in leg.coords}
    for unit in crossing:  # every order that drove through the closure changed and says why
        assert changes[unit].change in (ChangeKind.CHANGED, ChangeKind.CANCELLED)
        assert "封闭" in changes[unit].reason
    old = {r.vehicle_id: r for r in demo_plan.routes}
    new = {r.vehicle_id: r for r in plan.routes}
    for unit, c in changes.items():
        kind = OrderKind(c.kind)
        if kind == OrderKind.TRANSFER:
            assert (c.change == ChangeKind.NEW) == (unit not in old)
            assert (c.change == ChangeKind.CANCELLED) == (unit not in new)
            if c.change == ChangeKind.UNCHANGED:
                stops = [[(s.site_id, dict(s.loads)) for s in t.stops] for t in old[unit].trips]
                assert stops == [
                    [(s.site_id, dict(s.loads)) for s in t.stops] for t in new[unit].trips
                ]
        assert c.order == next((o.number for o in plan.orders if o.unit_id == unit), "")
    # the JSON round trip keeps them
    assert Plan.from_json(plan.to_json()) == plan


def test_issued_orders_are_kept_unless_they_cross_the_closure(
    demo_plan: Plan, closed: tuple[Scenario, tuple[float, float]], demo_network: Any
) -> None:
    scenario, point = closed
    t = demo_plan.created_at
    issued = demo_plan.approve("王局长", t + timedelta(minutes=1)).issue(
        "王局长", t + timedelta(minutes=2)
    )
    plan = plan_dispatch(
        scenario,
        demo_network,
        DispatchOptions(seconds=SECONDS, created_at=t + timedelta(minutes=5)),
        previous=issued,
    )
    changes = {c.unit_id: c for c in plan.inputs.changes}
    crossing = {o.unit_id for o in issued.orders for leg in o.legs if point in leg.coords}
    assert crossing
    new_routes = {r.vehicle_id: r for r in plan.routes}
    for r in issued.routes:
        if not r.trips:
            continue
        c = changes[r.vehicle_id]
        if r.vehicle_id in crossing:
            assert c.change in (ChangeKind.CHANGED, ChangeKind.CANCELLED) and "封闭" in c.reason
            continue
        assert c.change == ChangeKind.UNCHANGED and c.reason == KEPT_ISSUED
        kept = new_routes[r.vehicle_id]
        assert [[s.site_id for s in t.stops] for t in kept.trips] == [
            [s.site_id for s in t.stops] for t in r.trips
        ]
        # the same orders, 5 minutes later in the new plan's time
        assert kept.trips[0].stops[0].arrival_s == pytest.approx(
            r.trips[0].stops[0].arrival_s - 300
        )
    teams = {a.team_id: a.incident_id for a in plan.assignment}
    for a in issued.assignment:
        if a.team_id not in crossing:
            assert teams.get(a.team_id) == a.incident_id
            assert changes[a.team_id].change == ChangeKind.UNCHANGED
    assert drives_through(plan, point) == []
    # kept loads are counted once: nothing is delivered beyond the needs
    for o in plan.incidents:
        for code, q in o.needs.items():
            assert o.delivered.get(code, 0.0) <= q + 1e-6


def test_old_plan_json_without_the_new_fields_loads(
    replanned: tuple[Plan, list[Plan], float],
) -> None:
    plan, _, _ = replanned
    data = json.loads(plan.to_json())
    for key in ("first_plan_s", "previous_plan", "changes"):
        del data["inputs"][key]
    old = Plan.from_dict(data)
    assert old.inputs.first_plan_s is None
    assert old.inputs.previous_plan == "" and old.inputs.changes == ()


def test_cli_replans_from_a_previous_plan_json(
    demo_workspace_path: Path, demo_plan: Plan, tmp_path: Path, capsys: Any
) -> None:
    import app

    prev = tmp_path / "prev.json"
    prev.write_text(demo_plan.to_json(), encoding="utf-8")
    closure = closure_on_route(demo_plan)
    spec = f"{closure.geometry.x},{closure.geometry.y},30"
    out = tmp_path / "out"
    args = ["dispatch", str(demo_workspace_path), "--out", str(out), "--seconds", "2"]
    assert app.main([*args, "--previous", str(prev), "--close", spec]) == 0
    text = capsys.readouterr().out
    assert f"相对方案 {demo_plan.number}" in text and "临时封闭道路 1 处" in text
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert data["inputs"]["previous_plan"] == demo_plan.number
    assert data["inputs"]["first_plan_s"] > 0
    assert data["inputs"]["changes"]
    assert drives_through(Plan.from_dict(data), (closure.geometry.x, closure.geometry.y)) == []
    # bad input: one line, exit 2, nothing written
    bad = tmp_path / "bad"
    assert app.main([*args[:3], str(bad), "--close", "105.9"]) == 2
    assert app.main([*args[:3], str(bad), "--previous", str(tmp_path / "none.json")]) == 2
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    assert app.main([*args[:3], str(bad), "--previous", str(junk)]) == 2
    assert app.main([*args[:3], str(bad), "--close", spec, "--save"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(e.startswith("error: ") for e in err)
    assert "--close" in err[0] and "previous plan" in err[1] and "previous plan" in err[2]
    assert "--save" in err[3]
    assert not bad.exists()


def test_a_team_change_or_a_closed_incident_blocks_exactly_its_orders(
    demo_plan: Plan, demo_scenario: Scenario, demo_network: Any
) -> None:
    """check_previous alone (no solve): a team put to rest and an incident closed block the
    orders that serve them, nothing else; an unchanged scenario blocks nothing."""
    from dispatch.replan import check_previous
    from dispatch.travel import snap_places
    from gis.model import IncidentStatus, TeamStatus

    def blocked(scenario: Scenario) -> dict[str, str]:
        geo = snap_places(scenario, demo_network)
        return dict(check_previous(demo_plan, scenario, geo, demo_plan.created_at).blocked)

    assert blocked(demo_scenario) == {}
    team = demo_plan.assignment[0].team_id
    rest = tuple(
        dataclasses.replace(t, status=TeamStatus.RESTING) if t.id == team else t
        for t in demo_scenario.teams
    )
    assert set(blocked(dataclasses.replace(demo_scenario, teams=rest))) == {team}
    ids = {i.id for i in demo_scenario.incidents}
    incident = next(
        s.site_id for r in demo_plan.routes for t in r.trips for s in t.stops if s.site_id in ids
    )
    closed = tuple(
        dataclasses.replace(i, status=IncidentStatus.CLOSED) if i.id == incident else i
        for i in demo_scenario.incidents
    )
    why = blocked(dataclasses.replace(demo_scenario, incidents=closed))
    serving = {
        r.vehicle_id
        for r in demo_plan.routes
        for t in r.trips
        for s in t.stops
        if s.site_id == incident
    }
    serving |= {a.team_id for a in demo_plan.assignment if a.incident_id == incident}
    assert set(why) == serving and all("已结束" in w for w in why.values())
