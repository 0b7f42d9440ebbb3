"""The dispatch pipeline on the bundled demo county 合江县, end to end.

One plan of the demo is computed per test session (``demo_plan`` in conftest) and checked with
independent feasibility tests: conservation of goods from stock to allocation to vehicle loads,
vehicle capacities per trip (kg and m³), depots, team double-booking, evacuation capacities,
order chains and route geometry. Partial cases (cancel, closed roads, no vehicles, no road
network) must give plans with reasons, never exceptions. The CLI runs as a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from dispatch.cli import run_dispatch_cli
from dispatch.export import OUTPUT_FILES
from dispatch.pipeline import DispatchOptions, plan_dispatch
from dispatch.plan import Plan, scenario_hash
from dispatch.records import OrderKind, PlanStatus
from dispatch.results import Reason, Status
from gis.errors import ValidationError, WorkspaceError
from gis.model import RoadClosure, Scenario

ROOT = Path(__file__).resolve().parents[1]
EPS = 1e-6


@pytest.fixture(scope="module")
def demo(demo_scenario: Scenario, demo_network: Any) -> tuple[Scenario, Any]:
    return demo_scenario, demo_network


@pytest.fixture(scope="module")
def plan(demo_plan: Plan) -> Plan:
    return demo_plan


# ---- the demo plan -------------------------------------------------------------------------


def test_plan_records_inputs_for_audit(plan: Plan, demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    assert re.fullmatch(r"HJ-\d{8}-001", plan.number)
    assert plan.number.split("-")[1] == f"{plan.created_at:%Y%m%d}"
    assert plan.status == PlanStatus.DRAFT
    assert plan.inputs.scenario_name == scenario.name
    assert plan.inputs.scenario_hash == scenario_hash(scenario)
    assert plan.inputs.options["seconds"] == 2.0
    assert network.content_hash in plan.inputs.road_network
    assert [s.stage for s in plan.stages] == [
        "路网与行程时间",
        "人员转移",
        "物资分配",
        "队伍派遣",
        "车辆路径",
    ]
    assert all(s.status in (Status.OPTIMAL, Status.FEASIBLE, Status.TIMEOUT) for s in plan.stages)
    assert plan.overall != Status.CANCELLED
    assert {o.incident_id for o in plan.incidents} == {i.id for i in scenario.open_incidents()}
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.matches(scenario)
    assert not plan.matches(scenario.replace(name=scenario.name + "（修改）"))


def test_plan_can_be_reproduced_from_its_snapshot(plan: Plan, demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    options = DispatchOptions.from_dict(plan.inputs.options)
    assert options.to_dict() == plan.inputs.options
    again = plan_dispatch(
        scenario, network, dataclasses.replace(options, created_at=plan.created_at)
    )
    assert again.number == plan.number and again.inputs == plan.inputs
    # the min-cost-flow allocation is deterministic: identical lines
    assert again.allocation == plan.allocation
    # CP-SAT stages are proven optimal: the same optimum value (the decisions may differ
    # between equally good optima, e.g. how a team's headcount is split over its skills)
    for name in ("人员转移", "物资分配", "队伍派遣"):
        a = next(s for s in plan.stages if s.stage == name)
        b = next(s for s in again.stages if s.stage == name)
        assert a.status == b.status == Status.OPTIMAL
        assert b.objective == pytest.approx(a.objective)


def test_ids_shared_across_entity_kinds_are_refused(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    team = dataclasses.replace(scenario.teams[0], id=scenario.stockpiles[0].id, vehicles=())
    clash = scenario.replace(teams=(team, *scenario.teams[1:]))
    with pytest.raises(ValidationError, match=f"id {scenario.stockpiles[0].id!r} is used by both"):
        plan_dispatch(clash, network, DispatchOptions(seconds=1))


def test_goods_are_conserved_from_stock_to_vehicles(plan: Plan, demo: tuple[Scenario, Any]) -> None:
    scenario, _ = demo
    # allocation never takes more than the depot holds (safety stock included)
    taken: dict[tuple[str, str], float] = defaultdict(float)
    for ln in plan.allocation:
        assert ln.quantity > 0
        taken[ln.stockpile_id, ln.material] += ln.quantity
    stock = {s.id: s for s in scenario.stockpiles}
    for (sp, code), q in taken.items():
        assert q <= stock[sp].inventory.get(code, 0) + EPS, (sp, code)
    # allocated + reported shortfall == need, for every incident and material
    for inc in scenario.open_incidents():
        for code, need in inc.needs.items():
            got = sum(
                ln.quantity
                for ln in plan.allocation
                if ln.site_id == inc.id and ln.material == code
            )
            short = sum(u.quantity for u in plan.unserved if u.site_id == inc.id and u.what == code)
            assert got + short == pytest.approx(need), (inc.id, code)
    # vehicles carry at most what was allocated on each (stockpile, site, material)
    carried: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in plan.routes:
        for t in r.trips:
            for s in t.stops:
                for code, q in s.loads.items():
                    carried[t.depot_id, s.site_id, code] += q
    allocated = defaultdict(float)
    for ln in plan.allocation:
        allocated[ln.stockpile_id, ln.site_id, ln.material] += ln.quantity
    for key, q in carried.items():
        assert q <= allocated[key] + EPS, key
    for o in plan.incidents:
        for code, q in o.allocated.items():
            assert o.delivered.get(code, 0) + o.undelivered.get(code, 0) == pytest.approx(q)
    # what the routes do not carry is reported (visit records), never silently dropped
    for key, q in allocated.items():
        if carried[key] < q - EPS:
            assert any(u.site_id == key[1] and u.what == "visit" for u in plan.unserved), key


def test_every_trip_fits_its_vehicle_and_starts_at_home(
    plan: Plan, demo: tuple[Scenario, Any]
) -> None:
    scenario, _ = demo
    mats = scenario.material_index
    vehicles = {v.id: v for sp in scenario.stockpiles for v in sp.vehicles}
    assert plan.vehicles_used > 0
    for r in plan.routes:
        v = vehicles[r.vehicle_id]
        assert r.depot_id == v.home_id
        last_end = 0.0
        for t in r.trips:
            assert t.depot_id == v.home_id
            kg = sum(q * mats[c].unit_weight_kg for s in t.stops for c, q in s.loads.items())
            m3 = sum(q * mats[c].unit_volume_m3 for s in t.stops for c, q in s.loads.items())
            assert kg <= v.capacity_kg + 1e-3 and m3 <= v.capacity_m3 + 1e-6, (v.id, kg, m3)
            assert last_end <= t.start_s <= t.end_s
            times = [t.start_s] + [x for s in t.stops for x in (s.arrival_s, s.departure_s)]
            assert times == sorted(times) and times[-1] <= t.end_s
            last_end = t.end_s


def test_teams_and_people(plan: Plan, demo: tuple[Scenario, Any]) -> None:
    scenario, _ = demo
    teams = {t.id: t for t in scenario.teams}
    ids = [a.team_id for a in plan.assignment]
    assert ids and len(ids) == len(set(ids))  # no team double-booked
    for a in plan.assignment:
        assert teams[a.team_id].status.value == "待命"
        assert set(a.contributes) <= set(teams[a.team_id].skills)
        assert sum(a.contributes.values()) <= teams[a.team_id].headcount
    free = {s.id: s.free_capacity for s in scenario.shelters}
    load: dict[str, int] = defaultdict(int)
    moved: dict[str, int] = defaultdict(int)
    for m in plan.evacuation:
        load[m.shelter_id] += m.people
        moved[m.group_id] += m.people
    assert plan.evacuation and all(load[s] <= free[s] for s in load)
    affected = {i.id: i.affected_people for i in scenario.open_incidents()}
    for g, n in moved.items():
        assert n <= affected[g]
        missing = affected[g] - n
        if missing:
            assert (
                sum(u.quantity for u in plan.unserved if u.site_id == g and u.what == "people")
                == missing
            )


def test_orders_follow_the_routes_and_the_roads(plan: Plan, demo: tuple[Scenario, Any]) -> None:
    _, network = demo
    transfers, deploys = plan.transfer_orders, plan.deploy_orders
    assert len(transfers) == plan.vehicles_used and len(deploys) == len(plan.assignment)
    assert [o.number for o in plan.orders] == [
        f"{plan.number}-{i:02d}" for i in range(1, len(plan.orders) + 1)
    ]
    for o in plan.orders:
        assert o.legs and all(a.to_id == b.from_id for a, b in zip(o.legs, o.legs[1:]))
        assert o.legs[0].from_id == o.origin_id
        for leg in o.legs:
            assert leg.on_roads and len(leg.coords) > 2 and leg.metres > 0 and leg.steps
            a, b = plan.place(leg.from_id), plan.place(leg.to_id)
            assert leg.coords[0] == (a.lon, a.lat) and leg.coords[-1] == (b.lon, b.lat)
            assert sum(s.distance_m for s in leg.steps) == pytest.approx(
                leg.metres, rel=1e-6, abs=1.0
            )
    # each driving leg of a 调拨单 takes what the router scheduled (vehicle speed factor applied)
    routes = {r.vehicle_id: r for r in plan.routes}
    for o in transfers:
        scheduled = []
        for t in routes[o.unit_id].trips:
            prev, where = t.start_s, t.depot_id
            for st in t.stops:
                if st.site_id != where:
                    scheduled.append(st.arrival_s - prev)
                prev, where = st.departure_s, st.site_id
            scheduled.append(t.end_s - prev)
        assert [leg.seconds for leg in o.legs] == pytest.approx(scheduled, abs=1.01)
    eta = {(a.team_id, a.incident_id): a.eta_s for a in plan.assignment}
    for o in deploys:
        # the path drawn is the one the solver timed (same engine, same nodes)
        assert o.legs[0].seconds == pytest.approx(eta[o.unit_id, o.destination_ids[0]], abs=1)
        assert o.kind == OrderKind.DEPLOY and o.headcount > 0


# ---- partial plans -------------------------------------------------------------------------


def test_stop_before_start_gives_cancelled_partial_plan(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    t0 = time.perf_counter()
    plan = plan_dispatch(scenario, network, DispatchOptions(seconds=5), stop=lambda: True)
    assert time.perf_counter() - t0 < 5
    assert plan.overall == Status.CANCELLED
    assert [s.status for s in plan.stages[1:]] == [Status.CANCELLED] * 4
    assert not plan.orders and not plan.allocation
    needs = {(i.id, c) for i in scenario.open_incidents() for c in i.needs}
    cancelled = {(u.site_id, u.what) for u in plan.unserved if u.reason == Reason.CANCELLED}
    assert needs <= cancelled
    _assert_every_need_accounted_for(plan, scenario)


def test_stop_during_the_run_keeps_what_was_decided(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    seen: list[str] = []
    fractions: list[float] = []

    def progress(f: float, msg: str) -> None:
        fractions.append(f)
        seen.append(msg)

    plan = plan_dispatch(
        scenario,
        network,
        DispatchOptions(seconds=5),
        progress=progress,
        stop=lambda: any(m.startswith("队伍派遣") for m in seen),
    )
    assert plan.overall == Status.CANCELLED
    assert plan.allocation  # the allocation was done before the stop
    assert not plan.routes and not plan.transfer_orders
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    routing = [s for s in plan.stages if s.stage == "车辆路径"]
    assert routing and routing[0].status == Status.CANCELLED
    _assert_every_need_accounted_for(plan, scenario)


def test_stop_during_routing_returns_promptly(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    started: list[float] = []

    def progress(f: float, msg: str) -> None:
        if msg.startswith("车辆路径") and not started:
            started.append(time.perf_counter())

    def stop() -> bool:
        return bool(started) and time.perf_counter() - started[0] > 0.3

    t0 = time.perf_counter()
    plan = plan_dispatch(
        scenario, network, DispatchOptions(seconds=20), stop=stop, progress=progress
    )
    assert time.perf_counter() - t0 < 10  # far less than the 20 s routing limit
    routing = next(s for s in plan.stages if s.stage == "车辆路径")
    assert routing.status == Status.CANCELLED and plan.overall == Status.CANCELLED
    assert plan.allocation and plan.assignment  # decided before the stop
    _assert_every_need_accounted_for(plan, scenario)


def _assert_every_need_accounted_for(plan: Plan, scenario: Scenario) -> None:
    """Delivered + listed as unserved covers every material need and required skill."""
    for inc in scenario.open_incidents():
        out = next(o for o in plan.incidents if o.incident_id == inc.id)
        for code, need in inc.needs.items():
            listed = sum(u.quantity for u in plan.unserved_for(inc.id) if u.what == code)
            assert out.delivered.get(code, 0) + listed >= need - 1e-6, (inc.id, code)
        for skill, n in inc.required_skills.items():
            listed = sum(u.quantity for u in plan.unserved_for(inc.id) if u.what == skill)
            assert out.covered_skills.get(skill, 0) + listed >= n, (inc.id, skill)


def test_a_failing_stage_is_reported_and_the_rest_still_planned(
    demo: tuple[Scenario, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.routing

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValidationError("RoutingProblem: vehicle 'VH-X' capacities must be finite")

    monkeypatch.setattr(dispatch.routing, "solve_routing", broken)
    scenario, network = demo
    plan = plan_dispatch(scenario, network, DispatchOptions(seconds=1, evacuate=False))
    routing = next(s for s in plan.stages if s.stage == "车辆路径")
    assert routing.status == Status.INFEASIBLE and "VH-X" in routing.message
    assert plan.overall == Status.INFEASIBLE
    assert plan.allocation and plan.deploy_orders and not plan.transfer_orders
    assert any("车辆路径计算失败" in u.message_zh for u in plan.unserved)
    _assert_every_need_accounted_for(plan, scenario)


def test_roads_closed_around_an_incident_make_it_unreachable(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    inc = scenario.open_incidents()[0]
    closure = RoadClosure(
        "CL-TEST", Point(inc.location.lon, inc.location.lat), "山洪冲毁道路", radius_m=2500
    )
    closed = scenario.replace(closures=(*scenario.closures, closure))
    plan = plan_dispatch(closed, network, DispatchOptions(seconds=1))
    out = next(o for o in plan.incidents if o.incident_id == inc.id)
    assert out.served_fraction == 0 and not out.teams and not out.allocated
    reasons = {u.reason for u in plan.unserved if u.site_id == inc.id}
    assert Reason.UNREACHABLE in reasons
    assert not any(inc.id in o.destination_ids for o in plan.orders)
    others = [o for o in plan.incidents if o.incident_id != inc.id]
    assert any(o.served_fraction > 0 for o in others)  # the rest of the county is still served


def test_no_vehicles_gives_reasons_not_exceptions(demo: tuple[Scenario, Any]) -> None:
    scenario, network = demo
    bare = scenario.replace(
        stockpiles=tuple(dataclasses.replace(s, vehicles=()) for s in scenario.stockpiles)
    )
    plan = plan_dispatch(bare, network, DispatchOptions(seconds=1, evacuate=False))
    assert plan.allocation and not plan.transfer_orders and plan.deploy_orders
    assert all(o.served_fraction == 0 for o in plan.incidents if o.needs)
    assert all(o.undelivered == o.allocated and not o.delivered for o in plan.incidents)
    visits = [u for u in plan.unserved if u.what == "visit"]
    assert visits and all(u.reason == Reason.NO_VEHICLE for u in visits)


def test_without_road_network_estimates_straight_lines(demo: tuple[Scenario, Any]) -> None:
    scenario, _ = demo
    plan = plan_dispatch(scenario, None, DispatchOptions(seconds=1, evacuate=False))
    assert any("无路网" in n for n in plan.inputs.notes)
    assert plan.orders and all(not leg.on_roads for o in plan.orders for leg in o.legs)
    assert plan.inputs.road_network == "none"


# ---- command line --------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_dispatch_writes_all_six_files(demo_workspace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "app.py"),
            "dispatch",
            str(demo_workspace_path),
            "--out",
            str(out),
            "--seconds",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 60
    for name in OUTPUT_FILES:
        assert (out / name).stat().st_size > 0, name
    plan = Plan.from_json((out / "plan.json").read_text(encoding="utf-8"))
    assert plan.orders and plan.number in proc.stdout
    assert "物资满足" in proc.stdout and "按时送达" in proc.stdout and "求解" in proc.stdout
    for o in plan.incidents:
        assert o.name[:6] in proc.stdout
    data = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert {"incidents", "unserved", "orders"} <= set(data)
    assert len(proc.stdout.splitlines()) <= 40  # one screen


def test_unreadable_workspace_is_a_workspace_error(tmp_path: Path) -> None:
    bad = tmp_path / "not_a_workspace.gpkg"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="not_a_workspace.gpkg"):
        run_dispatch_cli(bad, tmp_path / "out", seconds=1, engine=None)
    assert not (tmp_path / "out").exists()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "dispatch", str(bad), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not_a_workspace.gpkg" in proc.stderr


# ---- review fixes: far-off-road places, option wiring, export staging -----------------------


def test_place_far_from_any_road_is_unreachable_and_named(demo: tuple[Scenario, Any]) -> None:
    """A wrong coordinate (here 3° off, ~420 km) must not be served at its snapped node."""
    scenario, network = demo
    inc = scenario.open_incidents()[0]
    loc = dataclasses.replace(inc.location, lon=inc.location.lon + 3, lat=inc.location.lat + 3)
    moved = scenario.replace(
        incidents=tuple(
            dataclasses.replace(i, location=loc) if i.id == inc.id else i
            for i in scenario.incidents
        )
    )
    plan = plan_dispatch(moved, network, DispatchOptions(seconds=1))
    out = next(o for o in plan.incidents if o.incident_id == inc.id)
    assert out.served_fraction == 0 and not out.teams and not out.allocated
    mine = [u for u in plan.unserved if u.site_id == inc.id]
    assert mine and {u.reason for u in mine} == {Reason.UNREACHABLE}
    assert {u.what for u in mine} >= set(inc.needs) | set(inc.required_skills)
    assert not any(m.group_id == inc.id for m in plan.evacuation)
    assert any(inc.id in n and "不可达" in n for n in plan.inputs.notes)
    others = [o for o in plan.incidents if o.incident_id != inc.id]
    assert any(o.served_fraction > 0 for o in others)
    # a generous limit restores the (documented) node-to-node estimate
    lax = plan_dispatch(moved, network, DispatchOptions(seconds=1, max_offroad_m=1e7))
    assert next(o for o in lax.incidents if o.incident_id == inc.id).teams


def test_hard_deadlines_and_routing_objective_reach_the_solvers(
    demo: tuple[Scenario, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dispatch.assignment as assignment
    import dispatch.routing as routing

    seen: dict[str, Any] = {}
    real_assign, real_route = assignment.solve_assignment, routing.solve_routing

    def spy_assign(problem, options=None, **kw):  # type: ignore[no-untyped-def]
        seen["assignment"] = options
        return real_assign(problem, options, **kw)

    def spy_route(problem, options=None, **kw):  # type: ignore[no-untyped-def]
        seen["routing"] = options
        return real_route(problem, options, **kw)

    monkeypatch.setattr(assignment, "solve_assignment", spy_assign)
    monkeypatch.setattr(routing, "solve_routing", spy_route)
    scenario, network = demo
    opts = DispatchOptions(
        seconds=1, evacuate=False, hard_deadlines=True, routing_objective="travel_time"
    )
    plan = plan_dispatch(scenario, network, opts)
    assert seen["assignment"].hard_deadlines is True
    assert seen["routing"].objective == "travel_time"
    # hard golden hours: no team is sent that arrives after its incident's deadline
    deadline = {i.id: i.deadline_min * 60 for i in scenario.incidents}
    assert plan.deploy_orders
    assert plan.assignment
    assert all(t.eta_s <= deadline[t.incident_id] + EPS for t in plan.assignment)
    # and the options are part of the audit snapshot, so the plan can be reproduced
    again = DispatchOptions.from_dict(plan.inputs.options)
    assert again.hard_deadlines and again.routing_objective == "travel_time"


def test_a_failed_export_fails_alone_and_leaves_no_stale_file(
    plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 item 4: one failing export never blocks the others; its older file (from an
    earlier plan) is removed so it cannot pass for this plan; no staging folder is left."""
    import dispatch.export.xlsx as xlsx
    from dispatch.export import BundleError, export_all

    out = tmp_path / "out"
    export_all(plan, out)

    def broken(*_a: Any, **_k: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "export_xlsx", broken)
    later = dataclasses.replace(plan, number=plan.number[:-3] + "999")
    with pytest.raises(BundleError, match="orders.xlsx（OSError: disk full）") as info:
        export_all(later, out)
    assert set(info.value.failed) == {"orders.xlsx"}
    assert set(info.value.written) == set(OUTPUT_FILES) - {"orders.xlsx"}
    assert sorted(p.name for p in out.iterdir()) == sorted(set(OUTPUT_FILES) - {"orders.xlsx"})
    assert later.number in (out / "plan.json").read_text(encoding="utf-8")
    with pytest.raises(ValidationError, match="not a folder"):
        export_all(plan, out / "plan.json")


def test_summary_names_the_place_of_each_shortfall_on_one_line(plan: Plan) -> None:
    from dispatch.results import Unserved
    from dispatch.summary import summary_text

    inc = plan.incidents[0].incident_id
    evil = "山洪\n<b>2</b>\t"
    places = tuple(dataclasses.replace(p, name=evil) if p.id == inc else p for p in plan.places)
    o = plan.incidents[0]
    five_short = dataclasses.replace(
        o,
        name=evil,
        delivered={**o.delivered, "TENT": o.needs["TENT"] - 5},
        late={k: v for k, v in o.late.items() if k != "TENT"},
    )
    outcomes = (five_short, *plan.incidents[1:])
    short = Unserved(inc, "TENT", 5, Reason.OUT_OF_STOCK, "缺少 救灾帐篷 5 顶：库存不足")
    text = summary_text(
        dataclasses.replace(plan, places=places, incidents=outcomes, unserved=(short,))
    )
    lines = text.splitlines()
    (line,) = [ln for ln in lines if "库存不足" in ln]
    assert "[未满足] 山洪 <b>2</b>：救灾帐篷 5 顶" in line
    assert line.endswith("：缺少 救灾帐篷 5 顶：库存不足")
    # names from data stay on one line each (table row, shortfall, late lines)
    assert all("山洪 <b>2</b>" in ln for ln in lines if "<b>2</b>" in ln)
    assert sum("山洪 <b>2</b>" in ln for ln in lines) >= 2
