"""Vehicle routing (dispatch.routing): hand-checked optima, split delivery, multi-trip,
unserved reasons, cancel — each on both engines, every plan re-checked by an independent
feasibility checker written here (it does not use the module's own scheduler)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest

from dispatch.results import Reason, Status
from dispatch.routing import (
    UNREACHABLE,
    Delivery,
    RoutingOptions,
    RoutingProblem,
    RoutingResult,
    RoutingVehicle,
    job_matrix,
    solve_routing,
)
from gis.errors import ValidationError

ENGINES = ("pyvrp", "ortools", "hybrid")


# ------------------------------------------------------------------------------------------
# Independent checker
# ------------------------------------------------------------------------------------------


def check_plan(problem: RoutingProblem, result: RoutingResult) -> None:
    """Assert that ``result`` is a feasible plan for ``problem``."""
    vehicles = {v.id: v for v in problem.vehicles}
    deliveries = {d.id: d for d in problem.deliveries}
    delivered_w: dict[str, float] = {}
    delivered_v: dict[str, float] = {}
    delivered_q: dict[str, dict[str, float]] = {}
    used = set()
    for route in result.routes:
        v = vehicles[route.vehicle_id]
        assert route.vehicle_id not in used, "vehicle used by two routes"
        used.add(route.vehicle_id)
        assert route.depot == v.depot
        assert 1 <= len(route.trips) <= v.max_trips, "too many trips"
        t = 0
        for trip in route.trips:
            assert trip.depot == v.depot
            t += problem.loading_s
            assert trip.leave_s >= t
            t = trip.leave_s
            here = v.depot
            w = vol = 0.0
            for stop in trip.stops:
                assert problem.duration_s[here, stop.site] < UNREACHABLE
                travel = math.ceil(problem.duration_s[here, stop.site] / v.speed_factor - 1e-9)
                assert stop.arrival_s >= t + travel
                assert stop.start_s >= stop.arrival_s
                service = 0
                for did in stop.delivery_ids:
                    d = deliveries[did]
                    assert d.site == stop.site, "unloaded at the wrong site"
                    assert d.pickup_depot == v.depot, "goods from the wrong depot"
                    assert stop.start_s >= d.earliest_s
                    if d.deadline_s is not None:
                        assert stop.start_s <= d.deadline_s, f"{did} late"
                    service = max(service, d.service_s)
                assert stop.departure_s >= stop.start_s + service
                share = stop.weight_kg / sum(deliveries[x].weight_kg for x in stop.delivery_ids)
                for did in stop.delivery_ids:
                    d = deliveries[did]
                    delivered_w[did] = delivered_w.get(did, 0.0) + d.weight_kg * share
                    delivered_v[did] = delivered_v.get(did, 0.0) + d.volume_m3 * share
                for mat, q in stop.load.items():
                    site_q = delivered_q.setdefault(problem.locations[stop.site], {})
                    site_q[mat] = site_q.get(mat, 0.0) + q
                w += stop.weight_kg
                vol += stop.volume_m3
                t = stop.departure_s
                here = stop.site
            assert w <= v.capacity_kg + 1e-6, f"{route.vehicle_id}: {w} kg > capacity"
            assert vol <= v.capacity_m3 + 1e-6, f"{route.vehicle_id}: {vol} m³ > capacity"
            back = math.ceil(problem.duration_s[here, v.depot] / v.speed_factor - 1e-9)
            assert trip.return_s >= t + back
            t = trip.return_s
        assert t <= v.max_duration_s, "route longer than the shift"
        assert route.duration_s == t
    unserved = set(result.unserved_ids)
    for d in problem.deliveries:
        if d.id in unserved:
            assert delivered_w.get(d.id, 0.0) < d.weight_kg - 1e-6 or d.weight_kg == 0
            continue
        assert delivered_w.get(d.id, 0.0) == pytest.approx(d.weight_kg), f"{d.id} not once"
        assert delivered_v.get(d.id, 0.0) == pytest.approx(d.volume_m3)
    for u in result.unserved:
        assert u.message_zh and u.reason in Reason
    # material quantities: at every site whose deliveries were all made, exactly what was asked
    for site in {d.site for d in problem.deliveries}:
        ds = [d for d in problem.deliveries if d.site == site]
        if any(d.id in unserved for d in ds):
            continue
        want: dict[str, float] = {}
        for d in ds:
            for mat, q in d.loads.items():
                want[mat] = want.get(mat, 0.0) + q
        got = delivered_q.get(problem.locations[site], {})
        assert set(got) == set(want)
        assert all(got[m] == pytest.approx(want[m]) for m in want)


def line_problem(
    positions: list[float],
    n_depots: int,
    vehicles: list[RoutingVehicle],
    deliveries: list[Delivery],
    *,
    loading_s: int = 0,
    blocked: tuple[int, ...] = (),
) -> RoutingProblem:
    """Locations on a line; travel seconds = metres = |Δx|; ``blocked`` sites have no road."""
    x = np.asarray(positions, dtype=float)
    d = np.abs(x[:, None] - x[None, :]).round().astype(np.int64)
    for b in blocked:
        d[b, :] = UNREACHABLE
        d[:, b] = UNREACHABLE
        d[b, b] = 0
    names = tuple(f"L{i}" for i in range(len(x)))
    return RoutingProblem(
        names, d, d.copy(), names[:n_depots], tuple(vehicles), tuple(deliveries), loading_s
    )


def opts(engine: str, objective: str = "emergency", seconds: float = 0.6) -> RoutingOptions:
    return RoutingOptions(engine=engine, objective=objective, time_limit_s=seconds)


# ------------------------------------------------------------------------------------------
# Hand-checked optima
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_emergency_objective_serves_urgent_site_first(engine: str) -> None:
    # depot at 0, A at −10 (priority 1), B at +20 (priority 5), one vehicle.
    # A then B: 1×10 + 5×40 = 210; B then A: 5×20 + 1×50 = 150 (optimal). Travel time 60 either way.
    p = line_problem(
        [0, -10, 20],
        1,
        [RoutingVehicle("T1", 0, 1000, 10, 1000)],
        [Delivery("A", 1, 0, 100, 1, {"water": 10}), Delivery("B", 2, 0, 100, 1, priority=5)],
    )
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    assert r.info.status == Status.FEASIBLE
    assert [s.delivery_ids for s in r.routes[0].trips[0].stops] == [("B",), ("A",)]
    assert r.weighted_completion == 150
    assert r.completion_s() == {"B": 20, "A": 50}
    assert r.travel_s == 60


@pytest.mark.parametrize("engine", ENGINES)
def test_travel_time_objective_tiny_optimum(engine: str) -> None:
    # Depot 0; sites at −5, 11, 10, 30 (600, 300, 300, 500 kg); one 1000 kg truck, 2 trips.
    # Best: {−5, 10} (900 kg, 30 s) and {11, 30} (800 kg, 60 s) = 90 s (brute force below).
    xs = [0, -5, 11, 10, 30]
    w = [600, 300, 300, 500]
    p = line_problem(
        xs,
        1,
        [RoutingVehicle("T1", 0, 1000, 10, 10_000, max_trips=2)],
        [Delivery(f"D{i}", i + 1, 0, w[i], 0.1) for i in range(4)],
    )
    # brute force: split the 4 sites into two trips within 1000 kg; a trip on a line costs
    # 2 × (max(x, 0) − min(x, 0)).
    best = math.inf
    for mask in range(16):
        trips = [[i for i in range(4) if mask >> i & 1], [i for i in range(4) if not mask >> i & 1]]
        if any(sum(w[i] for i in t) > 1000 for t in trips):
            continue
        cost = sum(
            2 * (max([xs[i + 1] for i in t] + [0]) - min([xs[i + 1] for i in t] + [0]))
            for t in trips
        )
        best = min(best, cost)
    assert best == 90
    r = solve_routing(p, opts(engine, "travel_time"))
    check_plan(p, r)
    assert not r.unserved
    assert r.travel_s == best
    assert len(r.routes[0].trips) == 2


# ------------------------------------------------------------------------------------------
# Split delivery, multi-trip, two dimensions, multi-depot
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_split_delivery_and_reload(engine: str) -> None:
    # 2500 kg for a 1000 kg truck: only feasible as 3 pieces on 3 trips (reloading).
    p = line_problem(
        [0, 50],
        1,
        [RoutingVehicle("T1", 0, 1000, 10, 10_000, max_trips=3)],
        [Delivery("BIG", 1, 0, 2500, 3, {"tent": 100, "water": 50.5}, service_s=30)],
        loading_s=60,
    )
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    assert not r.unserved
    trips = r.routes[0].trips
    assert len(trips) == 3
    assert [t.weight_kg for t in trips] == pytest.approx([2500 / 3] * 3)
    tents = [s.load["tent"] for t in trips for s in t.stops]
    assert sorted(tents) == [33, 33, 34]  # integer quantities split as evenly as possible
    assert sum(s.load["water"] for t in trips for s in t.stops) == pytest.approx(50.5)
    # each trip: 60 s loading + 50 there + 30 unloading + 50 back = 190 s
    assert r.routes[0].duration_s == 3 * 190
    assert r.completion_s()["BIG"] == 2 * 190 + 60 + 50 + 30


@pytest.mark.parametrize("engine", ("pyvrp", "ortools"))
def test_volume_binds_and_trip_limit_leaves_one_unserved(engine: str) -> None:
    # Each 300 kg / 1.5 m³ load needs a whole 2 m³ truck; 3 loads, 2 trips allowed.
    dels = [Delivery(f"D{i}", i + 1, 0, 300, 1.5, priority=1 + i) for i in range(3)]
    p = line_problem([0, 10, 20, 30], 1, [RoutingVehicle("T1", 0, 5000, 2, 10_000, 2)], dels)
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    assert len(r.routes[0].trips) == 2
    assert r.unserved_ids == ("D0",)  # the lowest priority is left out
    assert r.unserved[0].reason == Reason.NO_VEHICLE
    # 5 m³ for a 2 m³ truck is cut into 3 pieces (ceil(5 / 2)) of 1.67 m³
    p2 = line_problem(
        [0, 10], 1, [RoutingVehicle("T1", 0, 5000, 2, 10_000, 3)], [Delivery("V", 1, 0, 10, 5)]
    )
    r2 = solve_routing(p2, opts(engine))
    check_plan(p2, r2)
    assert [t.volume_m3 for t in r2.routes[0].trips] == pytest.approx([5 / 3] * 3)


@pytest.mark.parametrize("engine", ("pyvrp", "ortools"))
def test_goods_come_from_the_allocated_depot(engine: str) -> None:
    # Depot 0 at x=0, depot 1 at x=100; the site at x=5 must be supplied from depot 1.
    vehicles = [RoutingVehicle("N", 0, 1000, 10), RoutingVehicle("F", 1, 1000, 10)]
    dels = [Delivery("X", 2, 1, 100, 1), Delivery("Y", 3, 0, 100, 1)]
    p = line_problem([0, 100, 5, 6], 2, vehicles, dels)
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    served_by = {
        s.delivery_ids[0]: rt.vehicle_id for rt in r.routes for t in rt.trips for s in t.stops
    }
    assert served_by == {"X": "F", "Y": "N"}


@pytest.mark.parametrize("engine", ("pyvrp", "ortools"))
def test_time_windows_and_shift(engine: str) -> None:
    # Two sites at 10 and 20; B cannot start before 100 and A must start by 15: A then B.
    # The 1-trip shift of 150 s is met: 10 (A) → wait → 100 (B, 20 s unloading) → 140 back.
    dels = [
        Delivery("A", 1, 0, 10, 0.1, deadline_s=15, priority=1),
        Delivery("B", 2, 0, 10, 0.1, service_s=20, earliest_s=100, priority=9),
    ]
    p = line_problem([0, 10, 20], 1, [RoutingVehicle("T", 0, 100, 1, 150)], dels)
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    stops = r.routes[0].trips[0].stops
    assert [s.delivery_ids for s in stops] == [("A",), ("B",)]
    assert stops[1].start_s == 100 and stops[1].arrival_s == 20
    assert r.routes[0].duration_s == 140


# ------------------------------------------------------------------------------------------
# Unserved reasons (never exceptions)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ("pyvrp", "ortools"))
def test_unserved_reasons(engine: str) -> None:
    vehicles = [RoutingVehicle("T", 0, 1000, 2, 3600, max_trips=2)]
    dels = [
        Delivery("OK", 2, 0, 500, 1),
        Delivery("ROAD", 3, 0, 10, 0.1),  # site 3 has no road
        Delivery("NOVEH", 2, 1, 10, 0.1),  # depot 1 has no vehicle
        Delivery("LATE", 4, 0, 10, 0.1, deadline_s=100),  # 500 s away
        Delivery("FAR", 5, 0, 10, 0.1),  # round trip 4000 s > 3600 s shift
    ]
    p = line_problem([0, 1, 50, 60, 500, 2000], 2, vehicles, dels, blocked=(3,))
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    reasons = dict(zip(r.unserved_ids, (u.reason for u in r.unserved)))
    assert reasons == {
        "ROAD": Reason.UNREACHABLE,
        "NOVEH": Reason.NO_VEHICLE,
        "LATE": Reason.TOO_LATE,
        "FAR": Reason.TOO_LATE,
    }
    assert r.info.status == Status.FEASIBLE
    assert all(u.message_zh and u.site_id.startswith("L") for u in r.unserved)
    # too big even after splitting: the truck has no volume at all, or splitting is disabled
    p2 = line_problem([0, 10], 1, [RoutingVehicle("T", 0, 1000, 0)], [Delivery("V", 1, 0, 1, 1)])
    r2 = solve_routing(p2, opts(engine))
    assert r2.info.status == Status.INFEASIBLE and r2.unserved[0].reason == Reason.OVER_CAPACITY
    p3 = line_problem(
        [0, 10], 1, [RoutingVehicle("T", 0, 1000, 9, 999, 3)], [Delivery("W", 1, 0, 1500, 1)]
    )
    r3 = solve_routing(p3, RoutingOptions(engine=engine, time_limit_s=0.6, allow_split=False))
    assert r3.unserved[0].reason == Reason.OVER_CAPACITY and not r3.routes


def test_one_unreachable_sentinel_and_the_solvers_do_not_import_the_matrix_engine() -> None:
    import subprocess
    import sys

    import dispatch.problems
    import gis.units

    assert UNREACHABLE is gis.units.UNREACHABLE == dispatch.problems.UNREACHABLE
    assert int(np.iinfo(np.int32).max) == UNREACHABLE
    code = (
        "import sys, dispatch.routing, dispatch.problems, gis.units; "
        "print('gis.matrix' in sys.modules)"
    )
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"  # importing gis.matrix costs ~1.4 s
    from gis.matrix import UNREACHABLE as matrix_sentinel

    assert matrix_sentinel is UNREACHABLE


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_int32_matrices_holding_the_sentinel_do_not_overflow(engine: str) -> None:
    """The sentinel is int32 max: sums of entries must not wrap (int32 matrices, as the
    travel-time engine stores them, with a blocked site and a reachable site at max - 1)."""
    from dispatch.routing.jobs import Job, prepare_jobs
    from dispatch.routing.schedule import schedule

    p64 = line_problem([0, 100, 200, 300], 1, [], [], blocked=(2,))
    dur = np.asarray(p64.duration_s).astype(np.int32)
    dur[0, 3] = dur[3, 0] = UNREACHABLE - 1  # reachable, absurdly far
    vehicle = RoutingVehicle("T", 0, 1000, 10, 3600, max_trips=2, speed_factor=0.5)
    dels = (
        Delivery("NEAR", 1, 0, 10, 0.1),
        Delivery("ROAD", 2, 0, 10, 0.1),
        Delivery("FAR", 3, 0, 10, 0.1),
    )
    p = RoutingProblem(p64.locations, dur, dur.copy(), p64.depots, (vehicle,), dels)
    assert p.travel_s(vehicle, 0, 3) == 2 * (UNREACHABLE - 1)  # scaled, no wrap
    d, m = job_matrix(p, [0, 1, 2, 3], vehicle)
    assert d.dtype == np.int64 and (d >= 0).all() and (m >= 0).all()
    assert d[0, 2] < UNREACHABLE and d[0, 3] == 2 * (UNREACHABLE - 1)
    prepared = prepare_jobs(p)  # FAR is screened out (too late even directly), no overflow
    assert [p.deliveries[j.delivery].id for j in prepared.jobs] == ["NEAR"]

    job = Job(0, 2, 0, 1, 3, 0, 10, 0.1, 100, 100, 0, 0, 3600, 1.0)
    s = schedule(p, vehicle, [[job]])
    assert not s.feasible and s.travel_s == 4 * (UNREACHABLE - 1)  # Python ints
    r = solve_routing(p, opts(engine))
    check_plan(p, r)
    reasons = dict(zip(r.unserved_ids, (u.reason for u in r.unserved)))
    assert reasons == {"ROAD": Reason.UNREACHABLE, "FAR": Reason.TOO_LATE}


def test_empty_and_invalid_input() -> None:
    p = line_problem([0, 10], 1, [], [])
    assert solve_routing(p, opts("pyvrp")).info.status == Status.OPTIMAL
    with pytest.raises(ValidationError, match="pickup_depot"):
        line_problem([0, 10], 1, [], [Delivery("D", 1, 3, 1, 1)])
    with pytest.raises(ValidationError, match="duration_s"):
        RoutingProblem(("a", "b"), np.zeros((3, 3), int), np.zeros((2, 2), int), ("a",), (), ())
    with pytest.raises(ValidationError, match="engine"):
        RoutingOptions(engine="magic")


# ------------------------------------------------------------------------------------------
# A county-sized instance and cancel
# ------------------------------------------------------------------------------------------


def county_problem(seed: int = 3) -> RoutingProblem:
    """3 stockpiles, 8 trucks (two speeds, 3–4 trips), 30 sites, some loads to split."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 30_000, size=(33, 2))
    metres = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1)) * 1.3
    dist = metres.round().astype(np.int64)
    dur = (metres / 11).round().astype(np.int64)
    names = tuple([f"S{i}" for i in range(3)] + [f"P{i}" for i in range(30)])
    vehicles = [
        RoutingVehicle(
            f"V{i}",
            i % 3,
            8000 if i < 3 else 3000,
            30 if i < 3 else 12,
            10 * 3600,
            4 if i < 3 else 3,
            0.9 if i < 3 else 1.1,
        )
        for i in range(8)
    ]
    dels = [
        Delivery(
            f"D{i}",
            3 + i,
            int(rng.integers(3)),
            float(w),
            float(w) / 300,
            {"water": float(w) / 10},
            600,
            0,
            int(rng.choice([4, 6, 9])) * 3600,
            float(rng.choice([1, 3])),
        )
        for i, w in enumerate(rng.choice([400, 1000, 2000, 2800, 11_000], size=30))
    ]
    return RoutingProblem(names, dur, dist, names[:3], tuple(vehicles), tuple(dels), 900)


@pytest.mark.parametrize("engine", ENGINES)
def test_county_instance_feasible(engine: str) -> None:
    p = county_problem()
    seen: list[float] = []
    r = solve_routing(p, opts(engine, seconds=2.0), progress=lambda f, m: seen.append(f))
    check_plan(p, r)
    assert seen and all(0.0 <= f <= 1.0 for f in seen) and seen[-1] == 1.0
    assert r.info.status == Status.FEASIBLE
    assert len(r.unserved) <= 3  # the fleet is sized so that almost everything fits
    assert any(len(rt.trips) > 1 for rt in r.routes)


@pytest.mark.parametrize("engine", ENGINES)
def test_stop_returns_cancelled_promptly(engine: str) -> None:
    p = county_problem()
    t0 = time.perf_counter()
    calls: list[float] = []

    def stop() -> bool:  # PyVRP polls every iteration, the OR-Tools parent every 50 ms
        calls.append(time.perf_counter())
        return len(calls) > 200 or time.perf_counter() - t0 > 0.5

    r = solve_routing(p, opts(engine, seconds=60.0), stop=stop)
    elapsed = time.perf_counter() - t0
    assert r.info.status == Status.CANCELLED
    assert elapsed < 5.0  # of a 60 s budget: cancel is prompt even on a busy machine
    check_plan(p, r)
    if engine == "pyvrp":  # depots are solved in turn: the later ones were never started
        assert any(u.reason == Reason.CANCELLED for u in r.unserved)


# ------------------------------------------------------------------------------------------
# Warm start (re-plans)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ("pyvrp", "ortools"))
def test_warm_start_gives_a_complete_plan_first_and_never_a_worse_final_one(engine: str) -> None:
    # depot 0 at 0; A at −10, B at +20 (150 kg: two pieces on a 100 kg truck), C at +30 is new,
    # D at +40 lost its road (a closure). The previous plan: A, B-half, D | B-half.
    vehicles = [RoutingVehicle("T1", 0, 100, 10, 1000, max_trips=3)]
    dels = [
        Delivery("A", 1, 0, 50, 1),
        Delivery("B", 2, 0, 150, 1, priority=5),
        Delivery("C", 3, 0, 20, 0.1, priority=2),
        Delivery("D", 4, 0, 10, 0.1),
    ]
    p = line_problem([0, -10, 20, 30, 40], 1, vehicles, dels, blocked=(4,))
    initial = {
        "T1": ((("A", 1.0), ("B", 0.5), ("D", 1.0), ("GONE", 1.0)), (("B", 0.5),)),
        "NOT-A-VEHICLE": ((("C", 1.0),),),
    }
    firsts: list[RoutingResult] = []
    r = solve_routing(p, opts(engine), initial=initial, on_first=firsts.append)
    assert len(firsts) == 1
    first = firsts[0]
    for plan in (first, r):
        check_plan(p, plan)
        served = {
            d for rt in plan.routes for t in rt.trips for s in t.stops for d in s.delivery_ids
        }
        assert served == {"A", "B", "C"}  # C inserted, D dropped
        assert dict(zip(plan.unserved_ids, (u.reason for u in plan.unserved))) == {
            "D": Reason.UNREACHABLE
        }
    assert first.info.status == Status.FEASIBLE and first.info.runtime_s <= r.info.runtime_s
    assert r.quality() <= first.quality()
    # without a previous plan nothing is handed out early
    again: list[RoutingResult] = []
    solve_routing(p, opts(engine), on_first=again.append)
    assert again == []
