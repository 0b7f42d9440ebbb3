"""Exact scheduling of one vehicle's trips, and the post-processing of every engine's plan.

:func:`schedule` computes the earliest-start schedule of a vehicle's trips and whether it is
feasible (capacity, windows, reachability, number of trips, shift); :func:`repair` drops pieces
until it is; :func:`insert_missing` inserts unrouted pieces greedily (or in place of a
lower-priority one); :func:`improve_sequence` improves trip order and stop sequence by exact
local search on the chosen objective.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.routing.jobs import Job
from dispatch.routing.model import KG_UNIT, M3_UNIT, RoutingProblem, RoutingVehicle, cap_int


@dataclass
class Schedule:
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
) -> Schedule:
    """Earliest-start schedule of ``trips`` for ``vehicle`` (from its ``ready_s``) and whether
    it is feasible."""
    t = vehicle.ready_s
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
        if w > cap_int(vehicle.capacity_kg, KG_UNIT) or v > cap_int(vehicle.capacity_m3, M3_UNIT):
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
    return Schedule(ok, out_trips, leave, back, t, weighted, travel, dist)


def objective_value(s: Schedule, objective: str) -> float:
    return s.weighted if objective == "emergency" else float(s.travel_s)


#: Largest plan (jobs on one vehicle) repaired by the exact drop-the-best-job search.
REPAIR_EXACT_MAX = 40


def repair(
    problem: RoutingProblem, vehicle: RoutingVehicle, trips: list[list[Job]]
) -> tuple[list[list[Job]], list[Job]]:
    """Drop jobs until the vehicle's schedule is feasible. Returns (trips, dropped).

    Up to :data:`REPAIR_EXACT_MAX` jobs: repeatedly drop the job whose removal helps most
    (cubic). Beyond: one pass in visiting order keeping each job only if the schedule so far
    stays feasible (dropping a later job never delays an earlier one), quadratic at worst.
    """
    trips = [list(t) for t in trips if t]
    dropped: list[Job] = []
    if (
        sum(len(t) for t in trips) > REPAIR_EXACT_MAX
        and not schedule(problem, vehicle, trips).feasible
    ):
        kept: list[list[Job]] = []
        for trip in trips:
            cur: list[Job] = []
            for job in trip:
                if schedule(problem, vehicle, [*kept, [*cur, job]]).feasible:
                    cur.append(job)
                else:
                    dropped.append(job)
            if cur:
                kept.append(cur)
        return kept, dropped
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


def improve_sequence(
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
    best_val = objective_value(best, objective)
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
            if s.feasible and objective_value(s, objective) < best_val - 1e-9:
                trips, best_val = c, objective_value(s, objective)
                improved = True
                break
    return trips


def best_insertion(
    problem: RoutingProblem,
    vehicle: RoutingVehicle,
    trips: list[list[Job]],
    job: Job,
    objective: str,
) -> tuple[float, list[list[Job]]] | None:
    """Cheapest feasible insertion of ``job`` into ``trips`` (new trip allowed); None if none."""
    base = schedule(problem, vehicle, trips)
    base_val = objective_value(base, objective) if base.feasible else 0.0
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
            delta = objective_value(s, objective) - base_val
            if best is None or delta < best[0]:
                best = (delta, cand)
    return best


def insert_missing(
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
            ins = best_insertion(problem, problem.vehicles[vi], trips, job, objective)
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
                        ins = best_insertion(problem, problem.vehicles[vi], cand, job, objective)
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
