"""Vehicles under way at a re-plan (issue 14 §2): where each vehicle of an issued plan is at a
time (:mod:`dispatch.fleet_state`), and drill re-plans that continue from there — goods
delivered stay delivered, a vehicle under way completes its trip and is then free at its depot
(routing ``ready_s``), a vehicle whose remaining road is closed turns back — on the demo county.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from dispatch.drills.runner import (
    apply_inject,
    plan_step,
    remaining_deadlines,
    step_options,
)
from dispatch.drills.script import parse_script
from dispatch.fleet_state import Where, fleet_state, trip_metres
from dispatch.records import ChangeKind, OrderKind
from dispatch.results import Reason, Status
from dispatch.routing import (
    Delivery,
    RoutingOptions,
    RoutingProblem,
    RoutingVehicle,
    solve_routing,
)

START = datetime(2026, 7, 12, 10, 0)
SECONDS = 2.0
#: a late incident next to 先滩镇应急物资储备点 (SP-003), whose two vehicles are out at the
#: start; 100 minutes in, they are back (or on their way back)
LATE = {
    "at_min": 100,
    "kind": "incident",
    "incident": {
        "id": "LATE-1",
        "name": "先滩镇内涝（演练）",
        "category": "自然灾害",
        "type": "内涝",
        "level": "III",
        "lon": 106.185,
        "lat": 28.81,
        "people": 200,
        "deadline_min": 90,
    },
}
CLOSURE = {
    "at_min": 20,
    "kind": "closure",
    "closure": {
        "id": "DRILL-CL-1",
        "name": "县城—福宝公路塌方（演练）",
        "speed_factor": 0,
        "radius_m": 80,
        "geometry": {"type": "Point", "coordinates": [105.989187, 28.787666]},
    },
}


@pytest.fixture(scope="module")
def baseline(demo_scenario: Any, demo_network: Any) -> Any:
    """The drill's step 0: planned at the start and issued."""
    options = step_options(START, (), SECONDS, 0)
    return plan_step(
        remaining_deadlines(demo_scenario, {}, START),
        demo_network,
        options,
        number=0,
        inject=None,
        previous=None,
    )


def _step(scenario: Any, network: Any, baseline: Any, inject: dict[str, Any]) -> tuple[Any, Any]:
    """(script inject, the scenario with the deadlines left) at the inject's time."""
    script = parse_script({"name": "t", "start": START.isoformat(), "injects": [inject]}, scenario)
    inj = script.injects[0]
    at = START + timedelta(minutes=inj.at_min)
    state = apply_inject(scenario, inj)
    clocks = {i.id: START for i in scenario.incidents} | {inj.target: at}
    return inj, remaining_deadlines(state, clocks, at)


def test_positions_deliveries_and_free_times(baseline: Any) -> None:
    t = 40 * 60.0
    states = fleet_state(baseline, START + timedelta(seconds=t))
    routes = {r.vehicle_id: r for r in baseline.routes if any(tr.stops for tr in r.trips)}
    assert set(states) == set(routes)
    on_leg = 0
    for vid, st in states.items():
        route = routes[vid]
        stops = [s for tr in route.trips for s in tr.stops]
        assert len(st.delivered) == sum(1 for s in stops if s.arrival_s <= t)
        assert len(st.pending) == sum(1 for s in stops if s.arrival_s > t)
        cur = [k for k, tr in enumerate(route.trips) if tr.start_s < t < tr.end_s]
        if not cur:
            assert st.current_trip is None and st.where == Where.DEPOT and st.free_s == 0
            assert not st.aboard
            continue
        trip = route.trips[cur[0]]
        assert st.current_trip == cur[0]
        assert st.free_s == pytest.approx(trip.end_s - t)
        assert st.free_at == route.depot_id
        carried: dict[str, float] = {}
        for s in trip.stops:
            if s.arrival_s > t:
                for k, q in s.loads.items():
                    carried[k] = carried.get(k, 0.0) + q
        assert st.aboard == pytest.approx(carried)
        if st.where == Where.LEG:
            on_leg += 1
            assert 0.0 < st.fraction < 1.0
            order = next(o for o in baseline.orders if o.unit_id == vid)
            leg = next(lg for lg in order.legs if (lg.from_id, lg.to_id) == (st.from_id, st.to_id))
            # the position lies on the leg's road path
            assert LineString(leg.coords).distance(Point(st.lon, st.lat)) < 1e-6
            assert (st.from_id, st.to_id) == st.remaining_legs()[0]
    assert on_leg >= 3  # 40 minutes in, most of the demo's vehicles are driving
    # before anything moves, and after everything is back
    assert all(
        s.where == Where.DEPOT and not s.delivered for s in fleet_state(baseline, 0.0).values()
    )
    end = max(tr.end_s for r in routes.values() for tr in r.trips) + 1
    for vid, st in fleet_state(baseline, end).items():
        order = next(o for o in baseline.orders if o.unit_id == vid)
        assert not st.pending and not st.under_way
        assert st.driven_m == pytest.approx(sum(lg.metres for lg in order.legs))
        assert sum(trip_metres(baseline, routes[vid])) == pytest.approx(st.driven_m)


def test_step_map_marks_vehicles_under_way(baseline: Any) -> None:
    from dispatch.drills.maps import VEHICLE_COLOUR, vehicle_points

    at = START + timedelta(minutes=40)
    points = vehicle_points(baseline, at)
    under_way = {v: s for v, s in fleet_state(baseline, at).items() if s.under_way}
    assert [p.label for p in points] == sorted(under_way)
    for p in points:
        assert (p.lon, p.lat) == (under_way[p.label].lon, under_way[p.label].lat)
        assert p.shape == "circle" and p.colour == VEHICLE_COLOUR
    assert vehicle_points(baseline, START) == ()


def test_late_incident_served_by_vehicles_back_from_their_trips(
    demo_scenario: Any, demo_network: Any, baseline: Any
) -> None:
    """Without tracking every vehicle of SP-003 stays busy with its issued route and the late
    incident next to it has no vehicle; with tracking (drills) the vehicles that came back
    serve it, and nothing delivered before the inject is delivered again."""
    from dispatch.pipeline import plan_dispatch

    inj, view = _step(demo_scenario, demo_network, baseline, LATE)
    at = START + timedelta(minutes=inj.at_min)
    t = (at - START).total_seconds()
    options = step_options(at, (baseline.number,), SECONDS, 0)
    old = plan_dispatch(view, demo_network, options, previous=baseline)
    assert any(
        u.site_id == "LATE-1" and u.reason == Reason.NO_VEHICLE and "SP-003" in u.message_zh
        for u in old.unserved
    )
    plan = plan_step(view, demo_network, options, number=1, inject=inj, previous=baseline)
    routing = next(s for s in plan.stages if s.stage == "车辆路径")
    assert routing.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert not any(u.site_id == "LATE-1" and u.reason == Reason.NO_VEHICLE for u in plan.unserved)
    late = {o.incident_id: o for o in plan.incidents}["LATE-1"]
    old_late = {o.incident_id: o for o in old.incidents}["LATE-1"]
    assert sum(late.delivered.values()) > sum(old_late.delivered.values())
    # SP-003's vehicles were out at the start: now they bring LATE-1 its goods after they are
    # back (a new trip starts after the kept one ends, with the loading time)
    before = {r.vehicle_id: r for r in baseline.routes}
    served_by_returned = False
    for r in plan.routes:
        if r.vehicle_id not in before or not any(tr.start_s < 0 for tr in r.trips):
            continue
        kept = [tr for tr in r.trips if tr.start_s < 0]
        new = [tr for tr in r.trips if tr.start_s >= 0]
        if new:
            assert new[0].start_s >= max(tr.end_s for tr in kept) + options.loading_s - 1
        if any(s.site_id == "LATE-1" for tr in new for s in tr.stops):
            served_by_returned = True
    assert served_by_returned
    # what was delivered before the inject is in the plan as it was, and not delivered again
    offset = (baseline.created_at - at).total_seconds()
    done = [
        (r.vehicle_id, s.site_id, round(s.arrival_s + offset, 3))
        for r in baseline.routes
        for tr in r.trips
        for s in tr.stops
        if s.arrival_s <= t
    ]
    now = {
        (r.vehicle_id, s.site_id, round(s.arrival_s, 3))
        for r in plan.routes
        for tr in r.trips
        for s in tr.stops
    }
    assert done and set(done) <= now
    for o in plan.incidents:
        for code, q in o.delivered.items():
            assert q <= o.needs.get(code, 0.0) + 1e-6, (o.incident_id, code)


def test_closure_after_departure_turns_the_vehicle_back(
    demo_scenario: Any, demo_network: Any, baseline: Any
) -> None:
    inj, view = _step(demo_scenario, demo_network, baseline, CLOSURE)
    at = START + timedelta(minutes=inj.at_min)
    t = (at - START).total_seconds()
    options = step_options(at, (baseline.number,), SECONDS, 0)
    plan = plan_step(view, demo_network, options, number=1, inject=inj, previous=baseline)
    states = fleet_state(baseline, at)
    held = [c for c in plan.inputs.changes if "按原路返回" in c.reason]
    assert held, "the closure cuts the road of a vehicle under way in the demo baseline"
    for c in held:
        st = states[c.unit_id]
        assert st.under_way
        route = next(r for r in plan.routes if r.vehicle_id == c.unit_id)
        cut = route.trips[st.trips_done]
        old_route = next(r for r in baseline.routes if r.vehicle_id == c.unit_id)
        old = old_route.trips[st.current_trip]
        before_m = sum(trip_metres(baseline, old_route)[: st.current_trip])
        # back the way it came: as long again as it has driven on this trip, no stop after now
        assert cut.start_s == pytest.approx(old.start_s - t)
        assert cut.end_s == pytest.approx(t - old.start_s)
        assert all(s.arrival_s <= 0 for s in cut.stops)
        assert route.distance_m >= before_m + 2 * (st.driven_m - before_m) - 1e-6
        assert all(tr.start_s >= cut.end_s for tr in route.trips[st.trips_done + 1 :])
    # only vehicles under way with the closure on the road still ahead are turned back
    for vid, st in states.items():
        if not st.under_way:
            assert vid not in {c.unit_id for c in held}
    kinds = {c.unit_id: c.change for c in plan.inputs.changes if c.kind == OrderKind.TRANSFER.value}
    assert all(kinds[c.unit_id] in (ChangeKind.CANCELLED, ChangeKind.CHANGED) for c in held)


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_routing_vehicle_ready_time(engine: str) -> None:
    """A vehicle free at 1800 s loads then (300 s) and drives: arrivals count from there, and a
    delivery due before it can arrive is reported too late."""
    x = [0, 600, 1200]  # depot, two sites on a line, seconds = metres / 1
    dur = np.abs(np.subtract.outer(x, x)).astype(np.int64)
    vehicles = (RoutingVehicle("V", 0, 1000, 10, 6 * 3600, max_trips=2, ready_s=1800),)
    deliveries = (
        Delivery("A", 1, 0, 100, 0.1),
        Delivery("B", 2, 0, 100, 0.1, deadline_s=1800),  # can start unloading at 3300 at best
    )
    p = RoutingProblem(("D", "S1", "S2"), dur, dur.copy(), ("D",), vehicles, deliveries, 300)
    r = solve_routing(p, RoutingOptions(engine=engine, time_limit_s=1.0))
    assert [t.leave_s for t in r.routes[0].trips][0] >= 1800 + 300
    visit = r.routes[0].trips[0].stops[0]
    assert visit.site == 1 and visit.arrival_s >= 1800 + 300 + 600
    assert r.unserved_ids == ("B",) and r.unserved[0].reason == Reason.TOO_LATE


def test_manual_replan_at_an_inject_is_fleet_tracked(demo_scenario: Any, demo_network: Any) -> None:
    """A manual drill (the desk's 演练 dock by hand): the operator's baseline and re-plan go
    through the dispatch service as the dispatch dock sends them, made the drill's by
    DrillSession.replan_request — the re-plan at the inject keeps the trips done before it and
    serves the new incident with vehicles back at their depots, as --auto does."""
    from dispatch.drills.session import MANUAL_WHO, DrillSession
    from dispatch.options import DispatchOptions
    from dispatch.records import PlanStatus
    from dispatch.service import DispatchRequest, run_dispatch

    script = parse_script(
        {"name": "人工", "start": START.isoformat(), "injects": [LATE]}, demo_scenario
    )
    s = DrillSession(demo_scenario, script, auto=False, seed=0)
    s.start()
    assert s.awaiting is None and s.open_step == 0  # by hand the baseline is optional

    def operator_run() -> Any:
        """The dispatch dock's run (its options, no plan time) while the drill runs."""
        dock = DispatchRequest(
            scenario=demo_scenario,
            options=DispatchOptions(seconds=SECONDS, existing_numbers=("X-1",)),
            network=demo_network,
        )
        req = s.replan_request(dock)
        assert req.track_fleet and req.scenario is s.view()
        assert req.options.created_at == s.simulated_at and "X-1" in req.options.existing_numbers
        plan = run_dispatch(req).plan
        return req, plan.approve("演练指挥", datetime.now().astimezone(), allow_partial=True)

    req0, baseline = operator_run()
    assert req0.previous_plan is None
    assert s.accepts(baseline)
    s.record_plan(baseline, manual=True)
    assert [st.number for st in s.steps] == [0] and s.steps[0].inject is None
    inj = s.step()
    assert inj is not None and s.awaiting == 1 and s.clock_min == LATE["at_min"]
    req, plan = operator_run()
    # the approved baseline is in force as issued
    prev = req.previous_plan
    assert prev.number == baseline.number and prev.status == PlanStatus.ISSUED
    assert prev.approvals[-1].who == MANUAL_WHO
    assert prev.approvals[-1].when == baseline.approvals[-1].when  # when the operator approved
    assert plan.inputs.previous_plan == baseline.number
    assert s.accepts(plan)
    s.record_plan(plan, manual=True)
    assert s.finished and s.steps[1].plan is plan
    # trips done before the inject are in the re-plan as they were (same vehicle, site and
    # time in the new plan's time base), and nothing delivered is delivered again
    at = START + timedelta(minutes=LATE["at_min"])
    t = (at - START).total_seconds()
    offset = (baseline.created_at - at).total_seconds()
    done = {
        (r.vehicle_id, st.site_id, round(st.arrival_s + offset, 3))
        for r in baseline.routes
        for tr in r.trips
        for st in tr.stops
        if st.arrival_s <= t
    }
    now = {
        (r.vehicle_id, st.site_id, round(st.arrival_s, 3))
        for r in plan.routes
        for tr in r.trips
        for st in tr.stops
    }
    assert done and done <= now
    for o in plan.incidents:
        for code, q in o.delivered.items():
            assert q <= o.needs.get(code, 0.0) + 1e-6, (o.incident_id, code)
    # the late incident is served by a vehicle that had trips before the inject and starts
    # its new trip at its depot after the kept one ends (with the loading time)
    served = False
    for r in plan.routes:
        kept = [tr for tr in r.trips if tr.start_s < 0]
        new = [tr for tr in r.trips if tr.start_s >= 0]
        if kept and new:
            assert new[0].depot_id == r.depot_id
            assert new[0].start_s >= max(tr.end_s for tr in kept) + req.options.loading_s - 1
            served = served or any(st.site_id == "LATE-1" for tr in new for st in tr.stops)
    assert served


def test_teams_on_site_stay_en_route_keep_their_eta_unless_cut_ahead(
    demo_scenario: Any, demo_network: Any, baseline: Any
) -> None:
    """Issue 14 §2 on the demo drill's closure (T+20, county town → 福宝): teams on site stay
    as sent, teams en route keep their arrival time unless the closure cuts the road still
    ahead of them (then re-assigned, the reason says so); a closure already behind a team does
    not touch it; a team released (休整) later loses its dispatch."""
    from dispatch.fleet_state import team_state
    from dispatch.replan import TEAM_CUT, TEAM_EN_ROUTE, TEAM_ON_SITE, closure_ahead

    inj, view = _step(demo_scenario, demo_network, baseline, CLOSURE)
    at = START + timedelta(minutes=inj.at_min)
    t = (at - START).total_seconds()
    states = team_state(baseline, at)
    old = {a.team_id: a for a in baseline.assignment}
    assert set(states) == set(old)
    on_site = {k for k, s in states.items() if s.on_site}
    assert on_site == {k for k, a in old.items() if a.eta_s <= t}
    cut = {k for k, s in states.items() if closure_ahead(s.ahead, view) is not None}
    en_route = set(states) - on_site - cut
    # the demo at T+20: some teams on site, some en route with the road ahead open, some cut
    assert on_site and en_route and cut
    deploy = {o.unit_id: o for o in baseline.orders if o.kind == OrderKind.DEPLOY}
    behind = {
        k
        for k in en_route
        if closure_ahead([c for lg in deploy[k].legs for c in lg.coords], view) is not None
    }
    assert behind  # their road crossed the closure's place before the inject: passed it

    plan = plan_step(view, demo_network, step_options(at, (baseline.number,), SECONDS, 0),
                     number=1, inject=inj, previous=baseline)  # fmt: skip
    new = {a.team_id: a for a in plan.assignment}
    changes = {c.unit_id: c for c in plan.inputs.changes if c.kind == OrderKind.DEPLOY.value}
    for k in on_site | en_route:  # kept as sent: same incident, same arrival (new time base)
        assert new[k].incident_id == old[k].incident_id
        assert new[k].eta_s == pytest.approx(old[k].eta_s - t)
        assert changes[k].change == ChangeKind.UNCHANGED
        assert changes[k].reason == (TEAM_ON_SITE if k in on_site else TEAM_EN_ROUTE)
    for k in cut:
        head = TEAM_CUT.split("（", 1)[0]
        assert changes[k].change != ChangeKind.UNCHANGED and changes[k].reason.startswith(head)
        if k in new:  # re-assigned: travel counted from its base at the re-plan's time
            assert new[k].eta_s > 0
    # each incident's skills are covered as the solver found, kept teams counted once
    assert len(new) == len(plan.assignment)
    # a kept team's 派遣令 is the road it was sent on (teams that passed the closure's place
    # are not shown a detour from their base), left before this plan's time
    orders = {o.unit_id: o for o in plan.orders if o.kind == OrderKind.DEPLOY}
    for k in on_site | en_route:
        assert orders[k].legs == deploy[k].legs
        assert orders[k].depart_s == pytest.approx(deploy[k].depart_s - t)
        assert orders[k].eta_s == pytest.approx(new[k].eta_s)
    # printed as left before the plan's time, never "+-"
    from dispatch.export.common import eta_text

    k = sorted(on_site)[0]
    text = eta_text(plan, orders[k].depart_s)
    assert f"(-{abs(orders[k].depart_s) / 60:.0f} 分钟)" in text and "+-" not in text
    # read again 10 minutes later from the re-plan: the same drive, the same share of it done
    later = team_state(plan, at + timedelta(minutes=10))
    for k in en_route:
        frac = min(1.0, (t + 600.0) / old[k].eta_s)
        assert later[k].on_site == (frac >= 1.0)
        if not later[k].on_site:
            assert later[k].fraction == pytest.approx(frac, abs=1e-6)

    # later, an on-site team is released (休整): its dispatch goes, the others stay
    released = sorted(on_site)[0]
    script = parse_script(
        {
            "name": "t",
            "start": START.isoformat(),
            "injects": [{"at_min": 30, "kind": "team_unavailable", "team_id": released}],
        },
        demo_scenario,
    )
    inj2 = script.injects[0]
    at2 = START + timedelta(minutes=30)
    state2 = apply_inject(apply_inject(demo_scenario, inj), inj2)
    view2 = remaining_deadlines(state2, {i.id: START for i in demo_scenario.incidents}, at2)
    numbers = (baseline.number, plan.number)
    plan2 = plan_step(view2, demo_network, step_options(at2, numbers, SECONDS, 0), number=2,
                      inject=inj2, previous=plan)  # fmt: skip
    assert released not in {a.team_id for a in plan2.assignment}
    gone = next(c for c in plan2.inputs.changes if c.unit_id == released)
    assert gone.change == ChangeKind.CANCELLED and "休整" in gone.reason
    kept2 = {a.team_id: a for a in plan2.assignment}
    for k in (on_site | en_route) - {released}:
        assert kept2[k].eta_s == pytest.approx(old[k].eta_s - 30 * 60)
    # the scorecard judges kept teams by their real arrival against the deadline as a clock
    # time (the plan's own deadline left is at least 0.1 min: every arrival before the plan's
    # time would look on time)
    from dispatch.drills.runner import DrillStep
    from dispatch.drills.scorecard import plan_metrics, step_record
    from dispatch.outcomes import ON_TIME_TOLERANCE_S

    arrived = [a for a in plan2.assignment if a.eta_s <= 0]
    assert arrived

    def scored(deadlines: dict[str, datetime]) -> int:
        step = DrillStep(2, inj2, at2, at2, 0.0, state2, plan2, deadlines=deadlines)
        return step_record(step, "steps/02", {})["metrics"]["teams_on_site_on_time"]

    ids = {i.id for i in state2.incidents}
    assert scored(dict.fromkeys(ids, START)) == 0  # every deadline at the start: all late
    far = START + timedelta(days=1)
    assert scored(dict.fromkeys(ids, far)) == len(plan2.assignment)
    # a deadline between the on-site teams' arrivals splits them
    first = min(arrived, key=lambda a: a.eta_s)
    mid = {i: far for i in ids} | {first.incident_id: at2 + timedelta(seconds=first.eta_s)}
    late = [
        a
        for a in plan2.assignment
        if a.incident_id == first.incident_id and a.eta_s > first.eta_s + ON_TIME_TOLERANCE_S
    ]
    assert scored(mid) == len(plan2.assignment) - len(late)
    assert plan_metrics(plan2)["teams_on_site_on_time"] >= len(arrived)  # the clamp's view
