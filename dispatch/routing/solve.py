"""``solve_routing``: prepare the jobs, run an engine, post-process, build the result.

Engines are looked up by name in :data:`ENGINE_BY_NAME` (all satisfy
:class:`dispatch.routing.engines.base.Engine`). The hybrid engine hands back its PyVRP plan as
``EngineOutput.alternative``; both plans are post-processed and the better one is kept (more
priority-weighted deliveries first, then the objective).

Warm start (re-plans): ``initial`` gives each vehicle's trips of a previous plan as delivery ids
(:data:`WarmStart`). Before any engine runs, those trips are mapped onto the new jobs, repaired
(pieces that became impossible are dropped: no road any more, deadline, capacity) and the jobs
they do not cover are inserted greedily (:func:`dispatch.routing.schedule.insert_missing`), so a
complete feasible plan exists after a fraction of a second; it is handed to ``on_first`` and to
the engine as its initial solution, and it stays a candidate for the final plan (the engine's
plan must beat it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

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
from dispatch.routing.engines.base import Engine, EngineOutput, EngineTask
from dispatch.routing.engines.hybrid import HYBRID
from dispatch.routing.engines.ortools import ORTOOLS
from dispatch.routing.engines.pyvrp import PYVRP
from dispatch.routing.jobs import Job, PreparedJobs, prepare_jobs, split_quantities
from dispatch.routing.model import (
    Route,
    RoutingOptions,
    RoutingProblem,
    RoutingResult,
    SiteVisit,
    Tour,
)
from dispatch.routing.schedule import improve_sequence, insert_missing, repair, schedule

#: The engines by :attr:`RoutingOptions.engine` name.
ENGINE_BY_NAME: dict[str, Engine] = {"pyvrp": PYVRP, "ortools": ORTOOLS, "hybrid": HYBRID}

#: A warm start: vehicle id → its trips, each a sequence of (delivery id, share of that delivery
#: unloaded at the stop, in (0, 1]). Unknown vehicles and deliveries are ignored.
WarmStart = Mapping[str, Sequence[Sequence[tuple[str, float]]]]
#: The warm start's repair and greedy insertion take at most this share of the routing budget
#: (and at most :data:`WARM_MAX_S`).
WARM_SHARE = 0.1
WARM_MAX_S = 0.5


def warm_output(
    problem: RoutingProblem,
    prepared: PreparedJobs,
    initial: WarmStart,
    options: RoutingOptions,
    deadline: float,
) -> EngineOutput:
    """A complete feasible plan from ``initial``: its stops mapped onto ``prepared.jobs`` (a
    stop carrying share ``s`` of a delivery cut into ``k`` pieces takes ``round(s × k)`` of
    them, at least one), each vehicle repaired, the rest inserted greedily before ``deadline``."""
    by_delivery: dict[str, list[Job]] = {}
    for job in prepared.jobs:
        by_delivery.setdefault(problem.deliveries[job.delivery].id, []).append(job)
    vehicle_index = {v.id: vi for vi, v in enumerate(problem.vehicles)}
    plans: dict[int, list[list[Job]]] = {}
    taken: set[int] = set()
    for vid, trips in initial.items():
        vi = vehicle_index.get(vid)
        if vi is None:
            continue
        vehicle = problem.vehicles[vi]
        out_trips: list[list[Job]] = []
        for trip in trips:
            cur: list[Job] = []
            for did, share in trip:
                free = [
                    j
                    for j in by_delivery.get(did, ())
                    if j.index not in taken and j.depot == vehicle.depot
                ]
                n = max(1, round(float(share) * (free[0].pieces if free else 1)))
                for j in free[:n]:
                    cur.append(j)
                    taken.add(j.index)
            if cur:
                out_trips.append(cur)
        trips_ok, dropped = repair(problem, vehicle, out_trips)
        for j in dropped:
            taken.discard(j.index)
        if trips_ok:
            plans[vi] = trips_ok
    insert_missing(problem, prepared.jobs, plans, taken, options.objective, deadline)
    return EngineOutput(
        plans={vi: [[j.index for j in t] for t in trips] for vi, trips in plans.items() if trips},
        found=True,
        note="warm start",
    )


def _better(a: RoutingResult, b: RoutingResult) -> bool:
    """``a`` is a better plan than ``b``: fewer priority-weighted undelivered loads, then the
    objective; a plan of a timed-out search never wins over one that was found."""
    if a.info.status == Status.TIMEOUT:
        return False
    if b.info.status == Status.TIMEOUT:
        return True
    return (round(a.unserved_priority, 6), a.info.objective or 0.0) < (
        round(b.unserved_priority, 6),
        b.info.objective or 0.0,
    )


def _build_result(
    problem: RoutingProblem,
    prepared: PreparedJobs,
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
        trips, _dropped = repair(problem, vehicle, [t for t in trips if t])
        taken.update(j.index for t in trips for j in t)
        plans[vi] = trips
    if post_optimise and out.found:
        insert_missing(problem, jobs, plans, taken, options.objective, post_deadline)
    for vi in sorted(plans):
        vehicle = problem.vehicles[vi]
        trips = plans[vi]
        if post_optimise and trips:
            trips = improve_sequence(problem, vehicle, trips, options.objective, post_deadline)
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
                load = split_quantities(d.loads, job.pieces, job.piece)
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
    whole = {j.delivery: j.pieces for j in jobs}  # pieces the delivery was cut into (≥ planned)
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
    for c in prepared.cut:  # pieces a cap left out (split-delivery / memory caps)
        d = problem.deliveries[c.delivery]
        unserved.append(
            Unserved(
                problem.locations[d.site],
                "visit",
                (c.pieces - c.kept) / c.pieces,
                Reason.OVER_CAPACITY,
                c.message,
                f"{d.id}: {c.pieces - c.kept} of {c.pieces} pieces not planned (cap)",
            )
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
            Unserved(site, "visit", missing / whole[di], reason, msg, f"{d.id}: {reason.name}")
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
    initial: WarmStart | None = None,
    on_first: Callable[[RoutingResult], None] | None = None,
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
    initial
        A previous plan's trips (warm start, see the module docstring), or None.
    on_first
        Called once with the warm start's complete plan (status FEASIBLE, ``runtime_s`` = time
        to build it) before the engine improves on it; only with ``initial``.

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
    first: RoutingResult | None = None
    start: EngineOutput | None = None
    if initial is not None and prepared.jobs:
        warm_deadline = t0 + min(WARM_MAX_S, WARM_SHARE * budget)
        start = warm_output(problem, prepared, initial, options, warm_deadline)
        first = _build_result(
            problem, prepared, start, options, 0.0, engine, post_optimise=False, post_deadline=0.0
        )
        first = replace(first, info=replace(first.info, runtime_s=time.perf_counter() - t0))
        if on_first is not None:
            on_first(first)
        progress(0.0, "已由上一方案得到完整方案，继续优化")
    if not prepared.jobs:
        out = EngineOutput(plans={}, found=True)
    else:
        task = EngineTask(problem, prepared, options, solve_deadline, stop, progress, start)
        out = ENGINE_BY_NAME[engine].solve(task)
    alternative = out.alternative
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
        if _better(other, result):
            result = other
        if out.cancelled:
            result = replace(result, info=replace(result.info, status=Status.CANCELLED))
    if first is not None and _better(first, result):  # the warm start stays a candidate
        status = Status.CANCELLED if out.cancelled else first.info.status
        result = replace(first, info=replace(first.info, status=status))
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
