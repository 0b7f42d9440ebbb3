"""PyVRP engine for :func:`dispatch.routing.solve_routing`.

One PyVRP model per pickup depot (the problem decomposes exactly by depot), solved one after
the other with the time split by number of pieces. Per depot: location 0 is the depot
(``service_duration`` = loading time, which PyVRP applies when a vehicle leaves a depot, i.e.
before every trip), locations 1.. are the pieces; two load dimensions (0.1 kg, litres); one
routing profile per distinct speed factor; one vehicle type per distinct (capacities, max
duration, max trips, speed, ready time) with ``reload_depots=[depot]`` and
``max_reloads = max_trips − 1``, ``tw_early = start_late = ready_s`` (vehicles leave at their
ready time, 0 unless still out on an issued trip) and ``tw_late = max_duration``.
Pieces are optional clients with a prize of (horizon + 1) × priority so that serving one is
always worth more than the duration it adds, and the high-priority ones are kept when capacity
runs short. Cost = total route duration (PyVRP has no arrival-time objective; see
:mod:`dispatch.routing`).

Warm start: ``EngineTask.initial`` (a previous plan mapped onto the jobs, see
:func:`dispatch.routing.solve.warm_output`) becomes each depot's ``initial_solution`` (trips
joined by reload visits at the depot); a depot whose initial routes PyVRP refuses starts cold.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from typing import Any

from dispatch.results import ProgressFn, StopFn
from dispatch.routing.engines.base import EngineOutput, EngineTask
from dispatch.routing.jobs import PreparedJobs
from dispatch.routing.model import (
    KG_UNIT,
    M3_UNIT,
    PRIORITY_UNIT,
    RoutingOptions,
    RoutingProblem,
    cap_int,
    job_matrix,
    vehicles_by_depot,
)

_INFEASIBLE = 2**63 - 1  # PyVRP's cost() of an infeasible solution (int64 max)
#: Stop a depot's search after this many iterations without improvement (≈ 0.5 s on a depot
#: with a handful of loads, far beyond any time limit on large ones).
NO_IMPROVEMENT_ITERS = 20_000


class _Criterion:
    """PyVRP stopping criterion: deadline, the caller's stop(), or convergence."""

    def __init__(self, deadline: float, stop: StopFn, progress: ProgressFn, label: str) -> None:
        self.deadline = deadline
        self.stop = stop
        self.progress = progress
        self.label = label
        self.cancelled = False
        self.start = time.perf_counter()
        self._last = 0.0
        self._best = _INFEASIBLE
        self._stale = 0

    give_up: float | None = None  # stop here if no feasible solution was found yet

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        if self.stop():
            self.cancelled = True
            return True
        if best_cost < self._best:
            self._best, self._stale = int(best_cost), 0
        else:
            self._stale += 1
            if self._stale >= NO_IMPROVEMENT_ITERS and best_cost < _INFEASIBLE:
                return True  # converged (small depots): don't make the operator wait
        if self.give_up is not None and now >= self.give_up and best_cost >= _INFEASIBLE:
            return True
        if now - self._last > 0.5:
            self._last = now
            span = max(self.deadline - self.start, 1e-9)
            self.progress(min(1.0, (now - self.start) / span), self.label)
        return now >= self.deadline


def _make_data(
    problem: RoutingProblem,
    jobs: list[Any],
    vtypes: list[Any],
    dist: Any,
    durations: list[Any],
    horizon: int,
    required: bool,
) -> Any:
    import pyvrp

    clients = [
        pyvrp.Client(
            location=i + 1,
            delivery=[j.w_int, j.v_int],
            service_duration=j.service_s,
            tw_early=j.earliest_s,
            tw_late=j.deadline_s,
            prize=(horizon + 1) * max(1, round(PRIORITY_UNIT * j.priority)),
            required=required,
        )
        for i, j in enumerate(jobs)
    ]
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(0.0, 0.0) for _ in range(len(jobs) + 1)],
        clients=clients,
        depots=[pyvrp.Depot(location=0, service_duration=problem.loading_s)],
        vehicle_types=vtypes,
        distance_matrices=[dist for _ in durations],
        duration_matrices=durations,
    )


def _initial_solution(
    data: Any,
    initial: EngineOutput | None,
    job_ids: list[int],
    groups: dict[tuple, list[int]],
    keys: list[tuple],
) -> Any:
    """``initial``'s trips of this depot's vehicles as a PyVRP solution (None: none / refused)."""
    import pyvrp

    if initial is None or not initial.plans:
        return None
    client = {j: i for i, j in enumerate(job_ids)}
    routes = []
    for ti, k in enumerate(keys):
        for vi in groups[k]:
            trips = [[client[j] for j in t if j in client] for t in initial.plans.get(vi, [])]
            trips = [t for t in trips if t]
            if not trips:
                continue
            acts: list[Any] = []
            for n, trip in enumerate(trips):
                if n:
                    acts.append(pyvrp.Activity(pyvrp.ActivityType.DEPOT, 0))
                acts.extend(pyvrp.Activity(pyvrp.ActivityType.CLIENT, c) for c in trip)
            routes.append(pyvrp.Route(data, acts, ti))
    if not routes:
        return None
    try:
        return pyvrp.Solution(data, routes)
    except (ValueError, RuntimeError, IndexError):  # e.g. more routes of a type than vehicles
        return None


def _solve_pyvrp(
    problem: RoutingProblem,
    prepared: PreparedJobs,
    options: RoutingOptions,
    deadline: float,
    stop: StopFn,
    progress: ProgressFn,
    initial: EngineOutput | None = None,
) -> EngineOutput:
    import pyvrp

    jobs_by_depot: dict[int, list[int]] = defaultdict(list)
    for job in prepared.jobs:
        jobs_by_depot[job.depot].append(job.index)
    fleets = vehicles_by_depot(problem)
    plans: dict[int, list[list[int]]] = {}
    remaining_jobs = len(prepared.jobs)
    found = True
    cancelled = False
    for depot in sorted(jobs_by_depot):
        job_ids = jobs_by_depot[depot]
        if stop():
            cancelled = True
            break
        now = time.perf_counter()
        share = (deadline - now) * len(job_ids) / max(remaining_jobs, 1)
        remaining_jobs -= len(job_ids)
        fleet = fleets.get(depot, [])
        jobs = [prepared.jobs[j] for j in job_ids]
        nodes = [depot] + [j.site for j in jobs]
        speeds = sorted({problem.vehicles[v].speed_factor for v in fleet})
        dist = None
        durations = []
        for sp in speeds:
            rep = next(problem.vehicles[v] for v in fleet if problem.vehicles[v].speed_factor == sp)
            dur, dist = job_matrix(problem, nodes, rep)
            durations.append(dur)
        assert dist is not None
        horizon = max(problem.vehicles[v].max_duration_s for v in fleet)
        groups: dict[tuple, list[int]] = defaultdict(list)
        for v in fleet:
            veh = problem.vehicles[v]
            key = (
                cap_int(veh.capacity_kg, KG_UNIT),
                cap_int(veh.capacity_m3, M3_UNIT),
                veh.max_duration_s,
                veh.max_trips,
                speeds.index(veh.speed_factor),
                veh.ready_s,
            )
            groups[key].append(v)
        keys = list(groups)
        vtypes = [
            pyvrp.VehicleType(
                num_available=len(groups[k]),
                capacity=[k[0], k[1]],
                start_depot=0,
                end_depot=0,
                tw_early=k[5],
                tw_late=k[2],
                shift_duration=k[2] - k[5],
                start_late=k[5],
                unit_distance_cost=0,
                unit_duration_cost=1,
                profile=k[4],
                reload_depots=[0] if k[3] > 1 else [],
                max_reloads=k[3] - 1,
            )
            for k in keys
        ]
        # Phase 1: every piece required (PyVRP's search then also inserts reload visits).
        # Phase 2, only if phase 1 found nothing feasible by half the share: pieces optional
        # (prize-collecting), warm-started from phase 1 so that its reloads are kept.
        label = f"PyVRP：{problem.depots[depot]} 路径优化"
        start = time.perf_counter()
        end = start + max(share, 0.05)
        crit = _Criterion(end, stop, progress, label)
        crit.give_up = start + 0.5 * max(share, 0.05)
        data = _make_data(problem, jobs, vtypes, dist, durations, horizon, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start_from = _initial_solution(data, initial, job_ids, groups, keys)
            res = pyvrp.solve(
                data,
                stop=crit,
                seed=options.seed,
                collect_stats=False,
                initial_solution=start_from,
            )
            best = res.best
            if not best.is_feasible() and not crit.cancelled:
                data2 = _make_data(problem, jobs, vtypes, dist, durations, horizon, False)
                routes = [
                    pyvrp.Route(
                        data2,
                        [pyvrp.Activity(a.type, a.idx) for a in list(rt)[1:-1]],
                        rt.vehicle_type(),
                    )
                    for rt in best.routes()
                ]
                crit2 = _Criterion(end, stop, progress, label)
                res = pyvrp.solve(
                    data2,
                    stop=crit2,
                    seed=options.seed,
                    collect_stats=False,
                    initial_solution=pyvrp.Solution(data2, routes),
                )
                best = res.best
                crit.cancelled = crit2.cancelled
        cancelled = cancelled or crit.cancelled
        if not best.is_feasible():
            found = found and best.num_routes() > 0
        pools = {ti: list(groups[k]) for ti, k in enumerate(keys)}
        for route in best.routes():
            vi = pools[route.vehicle_type()].pop(0)
            trips: list[list[int]] = []
            current: list[int] = []
            acts = list(route)
            for a in acts[1:-1]:
                if a.is_depot():
                    trips.append(current)
                    current = []
                elif a.is_client():
                    current.append(job_ids[a.idx])
            trips.append(current)
            plans[vi] = [t for t in trips if t]
        if cancelled:
            break
    return EngineOutput(plans=plans, found=found or bool(plans), cancelled=cancelled)


class PyVRPEngine:
    """PyVRP, one model per pickup depot (see the module docstring), warm-started from
    ``initial`` when given."""

    name = "pyvrp"

    def solve(self, task: EngineTask) -> EngineOutput:
        t = task
        return _solve_pyvrp(
            t.problem, t.prepared, t.options, t.deadline, t.stop, t.progress, t.initial
        )


PYVRP = PyVRPEngine()
