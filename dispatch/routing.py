"""Vehicle routing for emergency deliveries (multi-depot, two capacity dimensions, time windows,
max route duration, split delivery, multi-trip) with two engines behind one interface.

Model
-----
Locations ``0..n-1`` index the two matrices (int seconds, int metres); the first
``len(depots)`` locations are the depots (stockpiles). An entry ``>= UNREACHABLE`` (or
``False`` in the optional ``reachable`` mask) means there is no road.

Every vehicle leaves its depot at t = 0 (the plan's reference time); loading at the depot takes
``loading_s`` before each trip (the first and every reload); a vehicle must be back at its depot
by ``max_duration_s``. A vehicle makes at most ``max_trips`` trips (multi-trip: it returns to its
own depot to reload). Travel time of a vehicle = matrix seconds / ``speed_factor``, rounded up.
A delivery's time window ``[earliest_s, deadline_s]`` bounds the *start of unloading* at the site;
unloading takes ``service_s``. Goods are picked up at ``pickup_depot`` (the stockpile the
allocation chose): only vehicles based there carry them. Since no resource is shared between
depots, the problem decomposes exactly by depot (the PyVRP engine solves one depot after the
other, splitting the time; OR-Tools solves one model with per-depot vehicle restrictions).

Split delivery (before solving)
-------------------------------
A delivery that fits some vehicle of its pickup depot in both dimensions stays whole. Otherwise
it is cut into ``k`` equal pieces, where ``k = min over the depot's vehicles v of
max(ceil(weight / cap_kg(v)), ceil(volume / cap_m3(v)))``: each piece (weight/k, volume/k) then
fits the vehicle that needs the fewest pieces in both dimensions. Material quantities are split
the same way (integer quantities as evenly as possible, pieces differing by at most one unit),
so a piece's weight assumes the load is homogeneous. The delivery's completion time is that of
its last piece.

Objectives and what each engine really optimises
------------------------------------------------
``objective="emergency"`` (default): minimise Σ priority × completion time of each delivery.
``objective="travel_time"``: minimise total driving time.

- ``engine="ortools"``: exact emergency objective — a soft upper bound at 0 on the time cumul of
  each piece with coefficient round(10 × priority / pieces) adds Σ priority × start-of-unloading
  (completion = start + a constant service time), plus total travel time as a small tie-break
  (arc costs, which guided local search needs). Multi-trip via duplicated depot *reload* nodes
  (optional, tied to one vehicle) whose negative demand and free slack reset both load
  dimensions. Runs in a child process killed after limit + grace (hard stop), returning the best
  solution its solution callback reported.
- ``engine="pyvrp"``: PyVRP cannot express arrival-time costs; it minimises total route duration
  (travel + unloading + waiting) with native reloading (``reload_depots``/``max_reloads``).
  Phase 1 makes every piece required (only then does its search insert reload visits); if no
  feasible plan exists by half the time, phase 2 makes pieces optional with a prize of
  (horizon + 1) × priority (prize-collecting: when capacity runs short the high-priority loads
  are kept), warm-started from phase 1.
- ``engine="hybrid"``: PyVRP for the first third of the time (two thirds for ``travel_time``),
  then OR-Tools on the exact objective warm-started from PyVRP's routes; the better plan
  (fewer priority-weighted undelivered loads, then the objective) is kept.

Every engine's plan then goes through the same exact post-processing, using the scheduler in
this module: infeasible pieces are dropped (repair), unrouted pieces are inserted greedily
(highest priority first, or in place of a lower-priority piece), and each vehicle's trip order
and stop sequence are improved by exact local search on the chosen objective.

Anything that cannot be delivered becomes an :class:`~dispatch.results.Unserved` with a
Chinese reason (unreachable, no vehicle at the depot, too large for every vehicle, deadline
impossible even directly, or not enough vehicles/trips in time), never an exception. Invalid
*input* (shapes, indices, negative values) raises :class:`gis.errors.ValidationError`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dispatch.results import (
    ProgressFn,
    Reason,
    SolveInfo,
    Status,
    StopFn,
    Unserved,
    never_stop,
    no_progress,
)
from gis.errors import ValidationError

#: Matrix entries at or above this value mean "no road".
UNREACHABLE = 1_000_000_000
ENGINES = ("pyvrp", "ortools", "hybrid")
OBJECTIVES = ("emergency", "travel_time")
#: Engine used when none is given; chosen from the measurements in benchmarks/bench_vrp.py
#: (demo county + demo-like 36-site instances, 5 and 15 s): on the emergency objective PyVRP
#: alone leaves Σ priority × completion ~1.8× higher (it cannot model arrival times), OR-Tools
#: alone is best on that sum but leaves more priority-weighted loads undelivered on tight
#: instances; the hybrid delivers as much as PyVRP with a weighted completion within ~3–5 % of
#: OR-Tools', and on total travel time it matches PyVRP (the best there).
DEFAULT_ENGINE = "hybrid"
KG_UNIT = 10  # integer weight units per kg inside the engines (0.1 kg)
M3_UNIT = 1000  # integer volume units per m³ (litres)
PRIORITY_UNIT = 10  # integer priority units per priority point


# ------------------------------------------------------------------------------------------
# Problem and result types
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingVehicle:
    """A vehicle based at depot ``depot`` (location index < number of depots)."""

    id: str
    depot: int
    capacity_kg: float
    capacity_m3: float
    max_duration_s: int = 24 * 3600
    max_trips: int = 1
    speed_factor: float = 1.0  # > 1 faster, < 1 slower than the matrix


@dataclass(frozen=True, slots=True)
class Delivery:
    """A load to carry from ``pickup_depot`` to location ``site``."""

    id: str
    site: int
    pickup_depot: int
    weight_kg: float
    volume_m3: float
    loads: Mapping[str, float] = field(default_factory=dict)  # material → quantity
    service_s: int = 0
    earliest_s: int = 0
    deadline_s: int | None = None
    priority: float = 1.0


@dataclass(frozen=True)
class RoutingProblem:
    """Plain-data routing problem; validated on construction (ValidationError)."""

    locations: tuple[str, ...]
    duration_s: np.ndarray
    distance_m: np.ndarray
    depots: tuple[str, ...]
    vehicles: tuple[RoutingVehicle, ...]
    deliveries: tuple[Delivery, ...]
    loading_s: int = 0
    reachable: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.locations)
        for name in ("duration_s", "distance_m"):
            m = np.asarray(getattr(self, name))
            if m.shape != (n, n):
                raise ValidationError(
                    f"RoutingProblem: {name} has shape {m.shape}, expected ({n}, {n})"
                )
            if not np.issubdtype(m.dtype, np.integer):
                raise ValidationError(f"RoutingProblem: {name} must hold integers, got {m.dtype}")
            if (m < 0).any():
                i, j = np.argwhere(m < 0)[0]
                raise ValidationError(f"RoutingProblem: {name}[{i}, {j}] is negative")
        if self.reachable is not None and np.asarray(self.reachable).shape != (n, n):
            raise ValidationError(f"RoutingProblem: reachable mask must have shape ({n}, {n})")
        nd = len(self.depots)
        if nd > n:
            raise ValidationError("RoutingProblem: more depots than locations")
        if self.loading_s < 0:
            raise ValidationError("RoutingProblem: loading_s must be ≥ 0")
        seen: set[str] = set()
        for v in self.vehicles:
            where = f"RoutingProblem: vehicle {v.id!r}"
            if v.id in seen:
                raise ValidationError(f"{where}: duplicate id")
            seen.add(v.id)
            if not 0 <= v.depot < nd:
                raise ValidationError(
                    f"{where}: depot index {v.depot} is not a depot (0..{nd - 1})"
                )
            if (
                v.capacity_kg < 0
                or v.capacity_m3 < 0
                or not (math.isfinite(v.capacity_kg) and math.isfinite(v.capacity_m3))
            ):
                raise ValidationError(f"{where}: capacities must be finite and ≥ 0")
            if v.max_trips < 1 or v.max_duration_s <= 0:
                raise ValidationError(f"{where}: max_trips ≥ 1 and max_duration_s > 0 required")
            if not v.speed_factor > 0 or not math.isfinite(v.speed_factor):
                raise ValidationError(f"{where}: speed_factor must be > 0")
        seen = set()
        for d in self.deliveries:
            where = f"RoutingProblem: delivery {d.id!r}"
            if d.id in seen:
                raise ValidationError(f"{where}: duplicate id")
            seen.add(d.id)
            if not nd <= d.site < n:
                raise ValidationError(f"{where}: site index {d.site} is not a site ({nd}..{n - 1})")
            if not 0 <= d.pickup_depot < nd:
                raise ValidationError(f"{where}: pickup_depot {d.pickup_depot} is not a depot")
            if min(d.weight_kg, d.volume_m3, d.service_s, d.earliest_s) < 0:
                raise ValidationError(f"{where}: weight, volume, service and earliest must be ≥ 0")
            if d.deadline_s is not None and d.deadline_s < d.earliest_s:
                raise ValidationError(f"{where}: deadline_s < earliest_s")
            if not d.priority > 0 or not math.isfinite(d.priority):
                raise ValidationError(f"{where}: priority must be > 0")

    def is_reachable(self, i: int, j: int) -> bool:
        if self.reachable is not None and not bool(self.reachable[i, j]):
            return False
        return bool(self.duration_s[i, j] < UNREACHABLE and self.distance_m[i, j] < UNREACHABLE)

    def travel_s(self, vehicle: RoutingVehicle, i: int, j: int) -> int:
        """Travel seconds of ``vehicle`` from location i to j (speed factor applied)."""
        return _scaled_time(int(self.duration_s[i, j]), vehicle.speed_factor)


@dataclass(frozen=True)
class RoutingOptions:
    engine: str = DEFAULT_ENGINE
    objective: str = "emergency"
    time_limit_s: float = 10.0
    seed: int = 0
    allow_split: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValidationError(f"RoutingOptions: engine {self.engine!r} not in {ENGINES}")
        if self.objective not in OBJECTIVES:
            raise ValidationError(
                f"RoutingOptions: objective {self.objective!r} not in {OBJECTIVES}"
            )
        if not self.time_limit_s > 0:
            raise ValidationError("RoutingOptions: time_limit_s must be > 0")


@dataclass(frozen=True, slots=True)
class SiteVisit:
    """(Routing model; the plan's record is :class:`dispatch.records.RouteStop`.) One visit to a site: the pieces unloaded there, in one go."""

    delivery_ids: tuple[str, ...]
    site: int
    arrival_s: int  # reached the site
    start_s: int  # unloading starts (after waiting for the window)
    departure_s: int  # unloading done
    load: Mapping[str, float]  # material → quantity unloaded here
    weight_kg: float
    volume_m3: float


@dataclass(frozen=True, slots=True)
class Tour:
    """(Routing model; the plan's record is :class:`dispatch.records.Trip`.) Depot → stops → depot."""

    depot: int
    leave_s: int  # leaves the depot (after loading)
    return_s: int  # back at the depot
    stops: tuple[SiteVisit, ...]
    weight_kg: float
    volume_m3: float
    distance_m: int


@dataclass(frozen=True, slots=True)
class Route:
    vehicle_id: str
    depot: int
    trips: tuple[Tour, ...]
    duration_s: int  # from t = 0 to the return from the last trip
    distance_m: int


@dataclass(frozen=True)
class RoutingResult:
    """Routes, what could not be delivered, and plan quality figures.

    ``weighted_completion`` = Σ priority × completion time (s) of the delivered deliveries;
    ``travel_s`` = total driving time; ``unserved_ids[i]`` is the delivery of ``unserved[i]``.
    """

    info: SolveInfo
    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    unserved_ids: tuple[str, ...] = ()
    weighted_completion: float = 0.0
    travel_s: int = 0
    distance_m: int = 0
    unserved_priority: float = 0.0  # Σ priority × undelivered fraction

    def quality(self) -> tuple[float, float]:
        """(unserved priority, weighted completion): compare plans lexicographically."""
        return (round(self.unserved_priority, 6), self.weighted_completion)

    def completion_s(self) -> dict[str, int]:
        """Delivery id → time its last piece was unloaded."""
        out: dict[str, int] = {}
        for r in self.routes:
            for t in r.trips:
                for s in t.stops:
                    for d in s.delivery_ids:
                        out[d] = max(out.get(d, 0), s.departure_s)
        return out


# ------------------------------------------------------------------------------------------
# Internal: pieces ("jobs"), schedule, repair
# ------------------------------------------------------------------------------------------


def _scaled_time(seconds: int, speed: float) -> int:
    if speed == 1.0:
        return int(seconds)
    return int(math.ceil(seconds / speed - 1e-9))


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of a delivery (the engines' unit of work)."""

    index: int
    delivery: int  # index into problem.deliveries
    piece: int
    pieces: int
    site: int
    depot: int
    weight_kg: float
    volume_m3: float
    w_int: int
    v_int: int
    service_s: int
    earliest_s: int
    deadline_s: int  # horizon when none
    priority: float  # delivery priority / pieces


def _split_quantities(loads: Mapping[str, float], k: int, piece: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for mat, q in loads.items():
        if float(q).is_integer():
            base, rem = divmod(int(q), k)
            out[mat] = float(base + (1 if piece < rem else 0))
        else:
            out[mat] = q / k
    return out


def _cap_int(x: float, unit: int) -> int:
    return int(math.floor(x * unit + 1e-6))


def _amount_int(x: float, unit: int) -> int:
    return int(math.ceil(x * unit - 1e-6))


def _fits(v: RoutingVehicle, w: float, vol: float) -> bool:
    return _amount_int(w, KG_UNIT) <= _cap_int(v.capacity_kg, KG_UNIT) and _amount_int(
        vol, M3_UNIT
    ) <= _cap_int(v.capacity_m3, M3_UNIT)


def _pieces_needed(v: RoutingVehicle, w: float, vol: float) -> int | None:
    """Fewest equal pieces of (w, vol) that fit ``v``; None when a dimension has no room."""
    k = 1
    for amount, cap in ((w, v.capacity_kg), (vol, v.capacity_m3)):
        if amount <= 0:
            continue
        if cap <= 0:
            return None
        k = max(k, math.ceil(amount / cap - 1e-9))
    while not _fits(v, w / k, vol / k):  # integer rounding at the edge
        k += 1
    return k


@dataclass
class _Prepared:
    jobs: list[Job]
    unserved: list[tuple[int, Reason, str]]  # (delivery index, reason, message)
    horizon: int


def prepare_jobs(problem: RoutingProblem, *, allow_split: bool = True) -> _Prepared:
    """Cut deliveries into vehicle-sized pieces and screen out those that cannot be made."""
    horizon = max((v.max_duration_s for v in problem.vehicles), default=0)
    jobs: list[Job] = []
    unserved: list[tuple[int, Reason, str]] = []
    by_depot: dict[int, list[RoutingVehicle]] = {}
    for v in problem.vehicles:
        by_depot.setdefault(v.depot, []).append(v)
    for di, d in enumerate(problem.deliveries):
        site_name = problem.locations[d.site]
        depot_name = problem.depots[d.pickup_depot]
        fleet = by_depot.get(d.pickup_depot, [])
        if not fleet:
            unserved.append(
                (di, Reason.NO_VEHICLE, f"{depot_name} 无车辆，无法向 {site_name} 配送 {d.id}")
            )
            continue
        if not (
            problem.is_reachable(d.pickup_depot, d.site)
            and problem.is_reachable(d.site, d.pickup_depot)
        ):
            unserved.append(
                (di, Reason.UNREACHABLE, f"{site_name} 不可达：{depot_name} 与该点之间道路中断")
            )
            continue
        if any(_fits(v, d.weight_kg, d.volume_m3) for v in fleet):
            k = 1
        else:
            needs = [n for v in fleet if (n := _pieces_needed(v, d.weight_kg, d.volume_m3))]
            if not needs or not allow_split:
                unserved.append(
                    (
                        di,
                        Reason.OVER_CAPACITY,
                        f"{d.id} 货物 {d.weight_kg:g} kg / {d.volume_m3:g} m³ 超出 {depot_name} "
                        f"所有车辆的载重或容积" + ("" if needs else "（车辆无此容量）"),
                    )
                )
                continue
            k = min(needs)
        # Deadline impossible even directly, or the round trip exceeds every shift?
        feasible_vehicle = False
        for v in fleet:
            if not _fits(v, d.weight_kg / k, d.volume_m3 / k):
                continue
            go = problem.travel_s(v, d.pickup_depot, d.site)
            back = problem.travel_s(v, d.site, d.pickup_depot)
            start = max(problem.loading_s + go, d.earliest_s)
            if d.deadline_s is not None and start > d.deadline_s:
                continue
            if start + d.service_s + back > v.max_duration_s:
                continue
            feasible_vehicle = True
            break
        if not feasible_vehicle:
            unserved.append(
                (
                    di,
                    Reason.TOO_LATE,
                    f"{d.id} 即使直达也无法按时送达 {site_name}"
                    + (f"（时限 {d.deadline_s // 60} 分钟）" if d.deadline_s is not None else "")
                    + "或超出车辆最长工作时间",
                )
            )
            continue
        for p in range(k):
            jobs.append(
                Job(
                    index=len(jobs),
                    delivery=di,
                    piece=p,
                    pieces=k,
                    site=d.site,
                    depot=d.pickup_depot,
                    weight_kg=d.weight_kg / k,
                    volume_m3=d.volume_m3 / k,
                    w_int=_amount_int(d.weight_kg / k, KG_UNIT),
                    v_int=_amount_int(d.volume_m3 / k, M3_UNIT),
                    service_s=int(d.service_s),
                    earliest_s=int(d.earliest_s),
                    deadline_s=int(d.deadline_s) if d.deadline_s is not None else horizon,
                    priority=d.priority / k,
                )
            )
    return _Prepared(jobs=jobs, unserved=unserved, horizon=horizon)


@dataclass
class _Schedule:
    feasible: bool
    trips: list[list[tuple[int, int, int]]]  # per trip: (arrival, start, end) per job
    leave: list[int]
    back: list[int]
    end_s: int
    weighted: float  # Σ job priority × end of unloading
    travel_s: int
    distance_m: int


def schedule(
    problem: RoutingProblem, vehicle: RoutingVehicle, trips: Sequence[Sequence[Job]]
) -> _Schedule:
    """Earliest-start schedule of ``trips`` for ``vehicle`` and whether it is feasible."""
    t = 0
    ok = True
    out_trips: list[list[tuple[int, int, int]]] = []
    leave: list[int] = []
    back: list[int] = []
    weighted = 0.0
    travel = 0
    dist = 0
    depot = vehicle.depot
    for trip in trips:
        if not trip:
            continue
        w = sum(j.w_int for j in trip)
        v = sum(j.v_int for j in trip)
        if w > _cap_int(vehicle.capacity_kg, KG_UNIT) or v > _cap_int(vehicle.capacity_m3, M3_UNIT):
            ok = False
        t += problem.loading_s
        leave.append(t)
        prev = depot
        times: list[tuple[int, int, int]] = []
        for job in trip:
            if job.depot != depot or not problem.is_reachable(prev, job.site):
                ok = False
            dt = problem.travel_s(vehicle, prev, job.site)
            travel += dt
            dist += int(problem.distance_m[prev, job.site])
            arrive = t + dt
            start = max(arrive, job.earliest_s)
            if start > job.deadline_s:
                ok = False
            end = start + job.service_s
            times.append((arrive, start, end))
            weighted += job.priority * end
            t = end
            prev = job.site
        if not problem.is_reachable(prev, depot):
            ok = False
        dt = problem.travel_s(vehicle, prev, depot)
        travel += dt
        dist += int(problem.distance_m[prev, depot])
        t += dt
        back.append(t)
        out_trips.append(times)
    if len(out_trips) > vehicle.max_trips or t > vehicle.max_duration_s:
        ok = False
    return _Schedule(ok, out_trips, leave, back, t, weighted, travel, dist)


def _objective_value(s: _Schedule, objective: str) -> float:
    return s.weighted if objective == "emergency" else float(s.travel_s)


def _repair(
    problem: RoutingProblem, vehicle: RoutingVehicle, trips: list[list[Job]]
) -> tuple[list[list[Job]], list[Job]]:
    """Drop jobs (latest first) until the vehicle's schedule is feasible. Returns (trips, dropped)."""
    trips = [list(t) for t in trips if t]
    dropped: list[Job] = []
    while trips and not schedule(problem, vehicle, trips).feasible:
        # remove the job whose removal helps most: try each, keep the best feasible/shortest
        best = None
        for ti, trip in enumerate(trips):
            for pi in range(len(trip)):
                cand = [list(t) for t in trips]
                job = cand[ti].pop(pi)
                cand = [t for t in cand if t]
                s = schedule(problem, vehicle, cand)
                key = (not s.feasible, s.end_s, -job.priority)
                if best is None or key < best[0]:
                    best = (key, cand, job)
        assert best is not None
        trips = best[1]
        dropped.append(best[2])
    return trips, dropped


def _improve_sequence(
    problem: RoutingProblem,
    vehicle: RoutingVehicle,
    trips: list[list[Job]],
    objective: str,
    deadline: float,
) -> list[list[Job]]:
    """Exact local search on one vehicle: trip order, then relocate / swap within trips."""
    best = schedule(problem, vehicle, trips)
    if not best.feasible:
        return trips
    best_val = _objective_value(best, objective)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        candidates: list[list[list[Job]]] = []
        for a in range(len(trips)):
            for b in range(len(trips)):
                if a != b:
                    c = [list(t) for t in trips]
                    c.insert(b, c.pop(a))
                    candidates.append(c)
        for ti, trip in enumerate(trips):
            m = len(trip)
            for i in range(m):
                for j in range(m):
                    if i == j:
                        continue
                    c = [list(t) for t in trips]
                    c[ti].insert(j, c[ti].pop(i))
                    candidates.append(c)
                    if i < j:
                        c2 = [list(t) for t in trips]
                        c2[ti][i], c2[ti][j] = c2[ti][j], c2[ti][i]
                        candidates.append(c2)
        for n_tried, c in enumerate(candidates):
            if n_tried % 256 == 255 and time.perf_counter() > deadline:
                break
            s = schedule(problem, vehicle, c)
            if s.feasible and _objective_value(s, objective) < best_val - 1e-9:
                trips, best_val = c, _objective_value(s, objective)
                improved = True
                break
    return trips


def _best_insertion(
    problem: RoutingProblem,
    vehicle: RoutingVehicle,
    trips: list[list[Job]],
    job: Job,
    objective: str,
) -> tuple[float, list[list[Job]]] | None:
    """Cheapest feasible insertion of ``job`` into ``trips`` (new trip allowed); None if none."""
    base = schedule(problem, vehicle, trips)
    base_val = _objective_value(base, objective) if base.feasible else 0.0
    best: tuple[float, list[list[Job]]] | None = None
    options = [(ti, pos) for ti, t in enumerate(trips) for pos in range(len(t) + 1)]
    options += [(-1, pos) for pos in range(len(trips) + 1)]  # a new trip at position pos
    for ti, pos in options:
        cand = [list(t) for t in trips]
        if ti >= 0:
            cand[ti].insert(pos, job)
        else:
            cand.insert(pos, [job])
        s = schedule(problem, vehicle, cand)
        if s.feasible:
            delta = _objective_value(s, objective) - base_val
            if best is None or delta < best[0]:
                best = (delta, cand)
    return best


def _insert_missing(
    problem: RoutingProblem,
    jobs: list[Job],
    plans: dict[int, list[list[Job]]],
    taken: set[int],
    objective: str,
    deadline: float,
) -> None:
    """Greedy repair of an engine's plan: insert unrouted pieces (highest priority first) where
    feasible, else in place of one routed piece of lower priority. Mutates ``plans``/``taken``."""
    fleet: dict[int, list[int]] = {}
    for vi, v in enumerate(problem.vehicles):
        fleet.setdefault(v.depot, []).append(vi)
    missing = sorted((j for j in jobs if j.index not in taken), key=lambda j: -j.priority)
    for job in missing:
        if time.perf_counter() > deadline:
            return
        best: tuple[float, int, list[list[Job]], Job | None] | None = None
        for vi in fleet.get(job.depot, []):
            trips = plans.get(vi, [])
            ins = _best_insertion(problem, problem.vehicles[vi], trips, job, objective)
            if ins is not None and (best is None or ins[0] < best[0]):
                best = (ins[0], vi, ins[1], None)
        if best is None:  # swap out a lower-priority piece
            for vi in fleet.get(job.depot, []):
                trips = plans.get(vi, [])
                for ti, trip in enumerate(trips):
                    for pi, other in enumerate(trip):
                        if other.priority >= job.priority:
                            continue
                        cand = [list(t) for t in trips]
                        cand[ti].pop(pi)
                        cand = [t for t in cand if t]
                        ins = _best_insertion(problem, problem.vehicles[vi], cand, job, objective)
                        if ins is None:
                            continue
                        key = other.priority - job.priority  # most negative = best gain
                        if best is None or key < best[0]:
                            best = (key, vi, ins[1], other)
        if best is not None:
            _, vi, trips, removed = best
            plans[vi] = trips
            taken.add(job.index)
            if removed is not None:
                taken.discard(removed.index)


# ------------------------------------------------------------------------------------------
# Engines: common output
# ------------------------------------------------------------------------------------------


@dataclass
class EngineOutput:
    """Per vehicle index (into problem.vehicles): trips as lists of job indices."""

    plans: dict[int, list[list[int]]]
    found: bool
    cancelled: bool = False
    timed_out: bool = False
    note: str = ""


def _build_result(
    problem: RoutingProblem,
    prepared: _Prepared,
    out: EngineOutput,
    options: RoutingOptions,
    runtime: float,
    engine: str,
    *,
    post_optimise: bool,
    post_deadline: float,
) -> RoutingResult:
    jobs = prepared.jobs
    served: set[int] = set()
    routes: list[Route] = []
    weighted_by_delivery: dict[int, int] = {}
    total_travel = 0
    total_dist = 0
    plans: dict[int, list[list[Job]]] = {}
    taken: set[int] = set()
    for vi in sorted(out.plans):
        vehicle = problem.vehicles[vi]
        trips = [[jobs[j] for j in trip if j not in taken] for trip in out.plans[vi]]
        trips, _dropped = _repair(problem, vehicle, [t for t in trips if t])
        taken.update(j.index for t in trips for j in t)
        plans[vi] = trips
    if post_optimise and out.found:
        _insert_missing(problem, jobs, plans, taken, options.objective, post_deadline)
    for vi in sorted(plans):
        vehicle = problem.vehicles[vi]
        trips = plans[vi]
        if post_optimise and trips:
            trips = _improve_sequence(problem, vehicle, trips, options.objective, post_deadline)
        if not trips:
            continue
        s = schedule(problem, vehicle, trips)
        assert s.feasible
        total_travel += s.travel_s
        total_dist += s.distance_m
        out_trips: list[Tour] = []
        for ti, trip in enumerate(trips):
            stops: list[SiteVisit] = []
            prev_dist_node = vehicle.depot
            trip_dist = 0
            for job, (arr, start, end) in zip(trip, s.trips[ti]):
                served.add(job.index)
                trip_dist += int(problem.distance_m[prev_dist_node, job.site])
                prev_dist_node = job.site
                d = problem.deliveries[job.delivery]
                load = _split_quantities(d.loads, job.pieces, job.piece)
                weighted_by_delivery[job.delivery] = max(
                    weighted_by_delivery.get(job.delivery, 0), end
                )
                if stops and stops[-1].site == job.site and stops[-1].departure_s == start:
                    last = stops[-1]
                    merged = dict(last.load)
                    for mat, q in load.items():
                        merged[mat] = merged.get(mat, 0.0) + q
                    ids = last.delivery_ids + ((d.id,) if d.id not in last.delivery_ids else ())
                    stops[-1] = SiteVisit(
                        ids,
                        job.site,
                        last.arrival_s,
                        last.start_s,
                        end,
                        merged,
                        last.weight_kg + job.weight_kg,
                        last.volume_m3 + job.volume_m3,
                    )
                else:
                    stops.append(
                        SiteVisit(
                            (d.id,),
                            job.site,
                            arr,
                            start,
                            end,
                            load,
                            job.weight_kg,
                            job.volume_m3,
                        )
                    )
            trip_dist += int(problem.distance_m[prev_dist_node, vehicle.depot])
            out_trips.append(
                Tour(
                    depot=vehicle.depot,
                    leave_s=s.leave[ti],
                    return_s=s.back[ti],
                    stops=tuple(stops),
                    weight_kg=sum(j.weight_kg for j in trip),
                    volume_m3=sum(j.volume_m3 for j in trip),
                    distance_m=trip_dist,
                )
            )
        routes.append(Route(vehicle.id, vehicle.depot, tuple(out_trips), s.end_s, s.distance_m))

    # A delivery counts as delivered only when all its pieces are.
    pieces_total: dict[int, int] = {}
    pieces_served: dict[int, int] = {}
    for j in jobs:
        pieces_total[j.delivery] = pieces_total.get(j.delivery, 0) + 1
        if j.index in served:
            pieces_served[j.delivery] = pieces_served.get(j.delivery, 0) + 1
    unserved: list[Unserved] = []
    unserved_ids: list[str] = []
    for di, reason, msg in prepared.unserved:
        d = problem.deliveries[di]
        unserved.append(
            Unserved(problem.locations[d.site], "visit", 1.0, reason, msg, f"{d.id}: {reason.name}")
        )
        unserved_ids.append(d.id)
    for di, total in pieces_total.items():
        missing = total - pieces_served.get(di, 0)
        if missing == 0:
            continue
        d = problem.deliveries[di]
        site = problem.locations[d.site]
        if out.cancelled:
            reason, msg = Reason.CANCELLED, f"{d.id} 有 {missing}/{total} 车次未排车：计算已取消"
        elif not out.found:
            reason, msg = Reason.TIME_LIMIT, f"{d.id} 未排车：计算超时，未找到方案"
        elif d.deadline_s is not None:
            reason = Reason.TOO_LATE
            msg = f"{d.id} 有 {missing}/{total} 车次无法在时限内送达 {site}：车辆或趟次不足"
        else:
            reason = Reason.NO_VEHICLE
            msg = f"{d.id} 有 {missing}/{total} 车次无车可派：车辆、趟次或工作时间不足"
        unserved.append(
            Unserved(site, "visit", missing / total, reason, msg, f"{d.id}: {reason.name}")
        )
        unserved_ids.append(d.id)
    weighted = float(
        sum(
            problem.deliveries[di].priority * t
            for di, t in weighted_by_delivery.items()
            if pieces_served.get(di, 0) == pieces_total[di]
        )
    )
    if out.cancelled:
        status = Status.CANCELLED
    elif not problem.deliveries:
        status = Status.OPTIMAL
    elif not jobs or (out.found and not served):
        status = Status.INFEASIBLE  # nothing can be delivered
    elif not out.found:
        status = Status.TIMEOUT
    else:
        status = Status.FEASIBLE
    objective = weighted if options.objective == "emergency" else float(total_travel)
    problem_index = {d.id: i for i, d in enumerate(problem.deliveries)}
    return RoutingResult(
        info=SolveInfo(status=status, objective=objective, runtime_s=runtime, engine=engine),
        routes=tuple(routes),
        unserved=tuple(unserved),
        unserved_ids=tuple(unserved_ids),
        unserved_priority=sum(
            problem.deliveries[problem_index[i]].priority * u.quantity
            for i, u in zip(unserved_ids, unserved)
        ),
        weighted_completion=weighted,
        travel_s=total_travel,
        distance_m=total_dist,
    )


def solve_routing(
    problem: RoutingProblem,
    options: RoutingOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> RoutingResult:
    """Route the vehicles to make every delivery (see the module docstring for the model).

    Parameters
    ----------
    problem
        The plain-data problem.
    options
        Engine (``"hybrid"``, ``"pyvrp"``, ``"ortools"``), objective, time limit, seed.
    stop
        Polled during the search; returning True ends it promptly with status CANCELLED and
        the best plan found so far (deliveries not yet routed are reported as cancelled).
    progress
        Receives (fraction, message).

    Returns
    -------
    RoutingResult
        Feasible routes (re-checked and, if an engine returned an infeasible piece, repaired by
        dropping loads, which are then reported unserved), unserved deliveries with Chinese
        reasons, and the plan's weighted completion time, travel time and distance.
    """
    options = options or RoutingOptions()
    stop = stop or never_stop
    progress = progress or no_progress
    t0 = time.perf_counter()
    prepared = prepare_jobs(problem, allow_split=options.allow_split)
    engine = options.engine
    budget = options.time_limit_s
    post_share = 0.05
    solve_deadline = t0 + budget * (1 - post_share)
    alternative: EngineOutput | None = None
    if not prepared.jobs:
        out = EngineOutput(plans={}, found=True)
    elif engine == "pyvrp":
        from dispatch.routing_pyvrp import solve_pyvrp

        out = solve_pyvrp(problem, prepared, options, solve_deadline, stop, progress)
    elif engine == "ortools":
        from dispatch.routing_ortools import solve_ortools

        out = solve_ortools(problem, prepared, options, solve_deadline, stop, progress)
    else:
        from dispatch.routing_ortools import solve_ortools
        from dispatch.routing_pyvrp import solve_pyvrp

        share = 1 / 3 if options.objective == "emergency" else 2 / 3
        mid = t0 + (solve_deadline - t0) * share
        first = solve_pyvrp(problem, prepared, options, mid, stop, progress)
        if first.cancelled or stop():
            out = first
            out.cancelled = True
        else:
            out = solve_ortools(
                problem, prepared, options, solve_deadline, stop, progress, initial=first
            )
            alternative = first
    # post-optimisation (exact objective) gets the rest of the budget, at least 0.1 s
    post_deadline = max(t0 + budget, time.perf_counter() + 0.1)
    result = _build_result(
        problem,
        prepared,
        out,
        options,
        0.0,
        engine,
        post_optimise=not out.cancelled,
        post_deadline=post_deadline,
    )
    if alternative is not None:
        # keep the better plan: more (priority-weighted) deliveries first, then the objective
        other = _build_result(
            problem,
            prepared,
            alternative,
            options,
            0.0,
            engine,
            post_optimise=True,
            post_deadline=max(post_deadline, time.perf_counter() + 0.05),
        )
        if other.info.status != Status.TIMEOUT and (
            result.info.status == Status.TIMEOUT
            or (round(other.unserved_priority, 6), other.info.objective or 0.0)
            < (round(result.unserved_priority, 6), result.info.objective or 0.0)
        ):
            result = other
        if out.cancelled:
            result = replace(result, info=replace(result.info, status=Status.CANCELLED))
    progress(1.0, "路径规划完成")
    info = result.info
    return replace(
        result,
        info=SolveInfo(
            status=info.status,
            objective=info.objective,
            bound=None,
            runtime_s=time.perf_counter() - t0,
            engine=engine,
        ),
    )


def vehicles_by_depot(problem: RoutingProblem) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for vi, v in enumerate(problem.vehicles):
        out.setdefault(v.depot, []).append(vi)
    return out


def job_matrix(
    problem: RoutingProblem, nodes: Sequence[int], vehicle: RoutingVehicle | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(duration, distance) sub-matrices over location list ``nodes``; no-road → large value."""
    idx = np.asarray(nodes, dtype=int)
    dur = np.asarray(problem.duration_s, dtype=np.int64)[np.ix_(idx, idx)].copy()
    dist = np.asarray(problem.distance_m, dtype=np.int64)[np.ix_(idx, idx)].copy()
    bad = (dur >= UNREACHABLE) | (dist >= UNREACHABLE)
    if problem.reachable is not None:
        bad |= ~np.asarray(problem.reachable, dtype=bool)[np.ix_(idx, idx)]
    if vehicle is not None and vehicle.speed_factor != 1.0:
        dur = np.ceil(dur / vehicle.speed_factor - 1e-9).astype(np.int64)
    big = 10 * (max(v.max_duration_s for v in problem.vehicles) + 1)
    dur[bad] = big
    dist[bad] = big
    return dur, dist


def describe(result: RoutingResult) -> dict[str, Any]:
    """Short summary for logs and benchmarks."""
    return {
        "status": result.info.status.value,
        "engine": result.info.engine,
        "routes": len(result.routes),
        "trips": sum(len(r.trips) for r in result.routes),
        "unserved": len(result.unserved),
        "unserved_priority": round(result.unserved_priority, 3),
        "weighted_completion": result.weighted_completion,
        "travel_s": result.travel_s,
        "runtime_s": round(result.info.runtime_s, 2),
    }
