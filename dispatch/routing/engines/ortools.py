"""OR-Tools routing behind a hard stop.

OR-Tools' guided local search can overrun its time limit (and cannot be interrupted from
Python), so every model is built and solved in a child process started with the ``spawn``
method (:func:`dispatch.child_process.run_in_child`). The child reports each improving
solution to the parent (from an ``AddAtSolutionCallback``); the parent keeps the last one, polls ``stop()`` and kills the child
when the caller cancels or when ``time limit + grace`` has passed. The parent therefore always
returns the best solution seen so far, whatever the child does.

Models are described by plain, picklable payloads (dicts of ints and numpy arrays) and built by
one of the module-level *builders* in the child:

- ``"cvrp"``: one depot (node 0), integer distance matrix, one capacity dimension;
- ``"vrptw"``: one depot, scaled integer distances, time windows, service times, fixed vehicle
  cost (vehicle minimisation first, then distance);
- ``"emergency"``: one depot per call (the caller decomposes by pickup depot), two capacity
  dimensions (kg, m³), per-vehicle travel times (speed factor), time windows, max route
  duration, multi-trip through duplicated depot *reload* nodes, and either the emergency
  objective (Σ priority × arrival time, as soft upper bounds at 0 on the time cumul) or
  total travel time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.child_process import ChildChannel, run_in_child
from dispatch.results import ProgressFn, StopFn, no_progress
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
)

#: Seconds granted to the child beyond its time limit before it is killed.
DEFAULT_GRACE_S = 1.5
#: Longest wait for the child's interpreter to start before it is killed.
STARTUP_S = 5.0
#: Shortest OR-Tools time limit given to a child, whatever its start-up took.
MIN_CHILD_S = 0.2


@dataclass
class ChildOutcome:
    """What the OR-Tools child produced.

    ``routes[v]`` is vehicle ``v``'s node sequence (model nodes, start/end depot excluded).
    """

    routes: list[list[int]] | None = None
    objective: int | None = None
    finished: bool = False  # the child returned normally
    killed: bool = False  # the parent killed it (overrun or cancel)
    cancelled: bool = False  # stop() returned True
    status: str = ""
    error: str | None = None
    solutions_seen: int = 0
    first_solution_s: float | None = None
    timeline: list[tuple[float, int]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# Builders (run in the child)
# ------------------------------------------------------------------------------------------


def _default_params(payload: dict[str, Any], seconds: float) -> Any:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    params = pywrapcp.DefaultRoutingSearchParameters()
    fss = payload.get("first_solution", "PARALLEL_CHEAPEST_INSERTION")
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, fss)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    return params


def _build_cvrp(payload: dict[str, Any]) -> tuple[Any, Any]:
    from ortools.constraint_solver import pywrapcp

    dist: np.ndarray = payload["distance"]
    n = dist.shape[0]
    k = int(payload["num_vehicles"])
    manager = pywrapcp.RoutingIndexManager(n, k, 0)
    routing = pywrapcp.RoutingModel(manager)
    cb = routing.RegisterTransitMatrix(dist.astype(int).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    dem = routing.RegisterUnaryTransitVector([int(d) for d in payload["demand"]])
    routing.AddDimension(dem, 0, int(payload["capacity"]), True, "load")
    return manager, routing


def _build_vrptw(payload: dict[str, Any]) -> tuple[Any, Any]:
    from ortools.constraint_solver import pywrapcp

    dist: np.ndarray = payload["distance"]
    travel: np.ndarray = payload["travel"]  # includes the service time of the origin node
    tw: np.ndarray = payload["tw"]
    n = dist.shape[0]
    k = int(payload["num_vehicles"])
    manager = pywrapcp.RoutingIndexManager(n, k, 0)
    routing = pywrapcp.RoutingModel(manager)
    cb = routing.RegisterTransitMatrix(dist.astype(int).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    routing.SetFixedCostOfAllVehicles(int(payload["fixed_cost"]))
    dem = routing.RegisterUnaryTransitVector([int(d) for d in payload["demand"]])
    routing.AddDimension(dem, 0, int(payload["capacity"]), True, "load")
    tcb = routing.RegisterTransitMatrix(travel.astype(int).tolist())
    horizon = int(tw[:, 1].max())
    routing.AddDimension(tcb, horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node, 0]), int(tw[node, 1]))
    for v in range(k):
        time_dim.CumulVar(routing.Start(v)).SetRange(int(tw[0, 0]), int(tw[0, 1]))
        time_dim.CumulVar(routing.End(v)).SetRange(int(tw[0, 0]), int(tw[0, 1]))
    return manager, routing


def _build_emergency(payload: dict[str, Any]) -> tuple[Any, Any]:
    """Depot nodes (kind 0), job nodes (kind 1), reload nodes (kind 2, each tied to a vehicle)."""
    from ortools.constraint_solver import pywrapcp

    travel: list[np.ndarray] = payload["travel"]  # per vehicle (n, n) seconds, no service
    service: np.ndarray = payload["service"]  # (n,) seconds spent at a node before leaving
    tw: np.ndarray = payload["tw"]  # (n, 2) window on the start of service (jobs)
    kind: np.ndarray = payload["kind"]
    weight: np.ndarray = payload["weight"]  # (n,) integer units, 0 for depots/reloads
    volume: np.ndarray = payload["volume"]
    priority: np.ndarray = payload["priority"]  # (n,) integer weights ≥ 1 for jobs
    reload_owner: np.ndarray = payload["reload_owner"]  # (n,) vehicle or -1
    allowed: list[list[int]] = payload["allowed"]  # per node: vehicles allowed (jobs)
    starts: list[int] = payload["starts"]
    caps_w: list[int] = payload["cap_weight"]
    caps_v: list[int] = payload["cap_volume"]
    max_dur: list[int] = payload["max_duration"]
    objective = payload["objective"]
    n = len(kind)
    k = len(starts)
    manager = pywrapcp.RoutingIndexManager(n, k, starts, starts)
    routing = pywrapcp.RoutingModel(manager)

    time_cbs = []
    for v in range(k):
        mat = travel[v] + service[:, None]
        time_cbs.append(routing.RegisterTransitMatrix(mat.astype(int).tolist()))
    horizon = max(max(max_dur), int(tw[:, 1].max()) + int(service.max()) + 1)
    # vehicles leave at t = 0, or not before their ready time (still out on an issued trip)
    ready: list[int] = payload.get("ready", [0] * k)
    fix_start = not any(ready)
    routing.AddDimensionWithVehicleTransits(time_cbs, horizon, horizon, fix_start, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for v in range(k):
        time_dim.CumulVar(routing.End(v)).SetMax(int(max_dur[v]))
        if not fix_start:
            time_dim.CumulVar(routing.Start(v)).SetRange(int(ready[v]), int(ready[v]))
    jobs = [i for i in range(n) if kind[i] == 1]
    reloads = [i for i in range(n) if kind[i] == 2]
    for node in jobs:
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node, 0]), int(tw[node, 1]))
    # Arc costs = travel (+ service) time, which guided local search also penalises. In
    # emergency mode soft upper bounds at 0 on the time cumul (= start of service at a job)
    # add Σ priority × start, which dominates (priorities are scaled to integers ≥ 1).
    for v in range(k):
        routing.SetArcCostEvaluatorOfVehicle(time_cbs[v], v)
    if objective == "emergency":
        for node in jobs:
            time_dim.SetCumulVarSoftUpperBound(manager.NodeToIndex(node), 0, int(priority[node]))

    # Capacity with reloads: the load cumul counts what was loaded since the last depot visit;
    # a reload node subtracts the capacity and its slack (free only there) lets it reset.
    for name, amounts, caps in (("kg", weight, caps_w), ("m3", volume, caps_v)):
        cap_max = int(max(caps))
        vec = [int(a) for a in amounts]
        for node in reloads:
            vec[node] = -cap_max
        cb = routing.RegisterUnaryTransitVector(vec)
        routing.AddDimensionWithVehicleCapacity(cb, cap_max, [int(c) for c in caps], True, name)
        dim = routing.GetDimensionOrDie(name)
        for node in jobs:
            dim.SlackVar(manager.NodeToIndex(node)).SetValue(0)
    for node in reloads:
        idx = manager.NodeToIndex(node)
        routing.VehicleVar(idx).SetValues([-1, int(reload_owner[node])])
        routing.AddDisjunction([idx], 0)
    penalty: list[int] = payload["drop_penalty"]
    for node in jobs:
        idx = manager.NodeToIndex(node)
        # (SetAllowedVehiclesForIndex rejects Python lists in this build; -1 = dropped)
        routing.VehicleVar(idx).SetValues([-1, *(int(v) for v in allowed[node])])
        routing.AddDisjunction([idx], int(penalty[node]))
    return manager, routing


BUILDERS = {"cvrp": _build_cvrp, "vrptw": _build_vrptw, "emergency": _build_emergency}


def _extract(manager: Any, routing: Any, value: Any) -> list[list[int]]:
    routes: list[list[int]] = []
    for v in range(routing.vehicles()):
        seq: list[int] = []
        idx = value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(idx):
            seq.append(manager.IndexToNode(idx))
            idx = value(routing.NextVar(idx))
        routes.append(seq)
    return routes


def _ortools_child(
    channel: ChildChannel,
    builder: str,
    payload: dict[str, Any],
    seconds: float,
    end_epoch: float | None,
) -> str:
    """Body of the OR-Tools child: build, solve, stream improving solutions; returns the status."""
    manager, routing = BUILDERS[builder](payload)
    if end_epoch is not None:  # the time the child took to start counts against the limit
        seconds = max(MIN_CHILD_S, min(seconds, end_epoch - time.time()))
    params = _default_params(payload, seconds)
    best: list[int | None] = [None]

    def on_solution() -> None:
        cost = int(routing.CostVar().Value())
        if best[0] is None or cost < best[0]:
            best[0] = cost
            routes = _extract(manager, routing, lambda var: var.Value())
            channel.send("sol", cost, routes)

    routing.AddAtSolutionCallback(on_solution)
    initial = payload.get("initial_routes")
    if initial is not None:
        routing.CloseModelWithParameters(params)
        assignment = routing.ReadAssignmentFromRoutes(initial, True)
        if assignment is None:
            channel.send("note", "initial routes rejected by OR-Tools")
            sol = routing.SolveWithParameters(params)
        else:
            channel.send("note", "warm start accepted")
            sol = routing.SolveFromAssignmentWithParameters(assignment, params)
    else:
        sol = routing.SolveWithParameters(params)
    if sol is not None:
        routes = _extract(manager, routing, sol.Value)
        channel.send("sol", int(sol.ObjectiveValue()), routes)
    return str(routing.status())


def run_ortools(
    builder: str,
    payload: dict[str, Any],
    seconds: float,
    *,
    stop: StopFn | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    progress: ProgressFn | None = None,
    label: str = "OR-Tools",
    include_startup: bool = True,
) -> ChildOutcome:
    """Solve ``payload`` with builder ``builder`` in a spawned child; never overruns.

    Parameters
    ----------
    builder
        ``"cvrp"``, ``"vrptw"`` or ``"emergency"``.
    payload
        Picklable model description (see the builders).
    seconds
        Time limit. With ``include_startup`` (default) it counts from now: the time the child
        takes to start and build the model is deducted from OR-Tools' limit (which stays at
        least ``MIN_CHILD_S``). The child is killed ``seconds + grace_s`` after it started
        (and at ``STARTUP_S + seconds + grace_s`` at the latest).
    stop
        Polled every 50 ms; when it returns True the child is killed and the best solution
        received so far is returned with ``cancelled=True``.
    """
    progress = progress or no_progress
    out = ChildOutcome()
    t0 = time.perf_counter()
    last_progress = [0.0]

    def on_message(kind: str, *payload_: Any) -> None:
        if kind == "sol":
            cost, routes = int(payload_[0]), payload_[1]
            if out.objective is None or cost <= out.objective:
                out.objective, out.routes = cost, routes
            out.solutions_seen += 1
            now = time.perf_counter() - t0
            if out.first_solution_s is None:
                out.first_solution_s = now
            out.timeline.append((now, cost))
        elif kind == "note":
            out.status = payload_[0]

    def on_poll(elapsed: float) -> None:
        now = time.perf_counter()
        if now - last_progress[0] > 0.5:
            last_progress[0] = now
            progress(min(1.0, elapsed / max(seconds, 1e-9)), label)

    def run_s(startup: float) -> float:
        # The child's clock starts when its interpreter is up (spawn takes ~0.3–2 s depending
        # on load); if it is not up within STARTUP_S it is killed all the same.
        return max(MIN_CHILD_S, seconds - startup) if include_startup else seconds

    run = run_in_child(
        _ortools_child,
        (builder, payload, seconds, time.time() + seconds if include_startup else None),
        stop=stop,
        on_message=on_message,
        on_poll=on_poll,
        run_s=run_s,
        grace_s=grace_s,
        startup_s=STARTUP_S,
        cancel_grace_s=0.0,
        exit_wait_s=0.0,
        daemon=True,
    )
    out.finished, out.killed, out.cancelled = run.finished, run.killed, run.cancelled
    if run.finished:
        out.status = f"{out.status}; {run.result}".strip("; ")
    elif run.error is not None:
        out.error = run.details or run.error
    return out


# ------------------------------------------------------------------------------------------
# Emergency routing engine (dispatch.routing.solve_routing)
# ------------------------------------------------------------------------------------------


def _solve_emergency(
    problem: RoutingProblem,
    prepared: PreparedJobs,
    options: RoutingOptions,
    deadline: float,
    stop: StopFn,
    progress: ProgressFn,
    *,
    initial: EngineOutput | None = None,
) -> EngineOutput:
    """One multi-depot "emergency" model of ``prepared.jobs``, warm-started from ``initial``."""
    jobs = prepared.jobs
    used_depots = sorted({j.depot for j in jobs})
    vehicles = [vi for vi, v in enumerate(problem.vehicles) if v.depot in used_depots]
    depot_node = {d: i for i, d in enumerate(used_depots)}
    locs = list(used_depots)
    kind = [0] * len(used_depots)
    job_node: dict[int, int] = {}
    for j in jobs:
        job_node[j.index] = len(locs)
        locs.append(j.site)
        kind.append(1)
    jobs_per_depot: dict[int, int] = {}
    for j in jobs:
        jobs_per_depot[j.depot] = jobs_per_depot.get(j.depot, 0) + 1
    reload_nodes: dict[int, list[int]] = {}
    reload_owner = [-1] * len(locs)
    for mv, vi in enumerate(vehicles):
        v = problem.vehicles[vi]
        count = min(v.max_trips - 1, max(0, jobs_per_depot[v.depot] - 1))
        reload_nodes[mv] = []
        for _ in range(count):
            reload_nodes[mv].append(len(locs))
            locs.append(v.depot)
            kind.append(2)
            reload_owner.append(mv)
    n = len(locs)
    travel_cache: dict[float, np.ndarray] = {}
    travel = []
    dist = None
    for vi in vehicles:
        v = problem.vehicles[vi]
        if v.speed_factor not in travel_cache:
            dur, dist = job_matrix(problem, locs, v)
            travel_cache[v.speed_factor] = dur
        travel.append(travel_cache[v.speed_factor])
    horizon = max(problem.vehicles[vi].max_duration_s for vi in vehicles)
    service = np.full(n, problem.loading_s, dtype=np.int64)
    tw = np.zeros((n, 2), dtype=np.int64)
    tw[:, 1] = horizon
    weight = np.zeros(n, dtype=np.int64)
    volume = np.zeros(n, dtype=np.int64)
    priority = np.zeros(n, dtype=np.int64)
    allowed: list[list[int]] = [[] for _ in range(n)]
    index_of_job: dict[int, int] = {}
    for j in jobs:
        node = job_node[j.index]
        index_of_job[node] = j.index
        service[node] = j.service_s
        tw[node] = (j.earliest_s, min(j.deadline_s, horizon))
        weight[node] = j.w_int
        volume[node] = j.v_int
        priority[node] = max(1, round(PRIORITY_UNIT * j.priority))
        allowed[node] = [
            mv for mv, vi in enumerate(vehicles) if problem.vehicles[vi].depot == j.depot
        ]
    base = (horizon + 1) * (int(priority.sum()) + n + 1)
    penalty = [int(base * max(1, p)) for p in priority]
    payload = {
        "travel": travel,
        "service": service,
        "tw": tw,
        "kind": np.asarray(kind),
        "weight": weight,
        "volume": volume,
        "priority": priority,
        "reload_owner": np.asarray(reload_owner),
        "allowed": allowed,
        "starts": [depot_node[problem.vehicles[vi].depot] for vi in vehicles],
        "cap_weight": [cap_int(problem.vehicles[vi].capacity_kg, KG_UNIT) for vi in vehicles],
        "cap_volume": [cap_int(problem.vehicles[vi].capacity_m3, M3_UNIT) for vi in vehicles],
        "max_duration": [problem.vehicles[vi].max_duration_s for vi in vehicles],
        "ready": [problem.vehicles[vi].ready_s for vi in vehicles],
        "objective": options.objective,
        "drop_penalty": penalty,
        "first_solution": "PARALLEL_CHEAPEST_INSERTION",
    }
    if initial is not None and initial.plans:
        routes = []
        for mv, vi in enumerate(vehicles):
            seq: list[int] = []
            trips = initial.plans.get(vi, [])
            spare = list(reload_nodes[mv])
            for ti, trip in enumerate(trips):
                if ti > 0:
                    if not spare:
                        break
                    seq.append(spare.pop(0))
                seq.extend(job_node[j] for j in trip)
            routes.append(seq)
        payload["initial_routes"] = routes
    remaining = deadline - time.perf_counter()
    # past its limit the child is only killed: every improving solution has already been
    # streamed to us, so a long grace is time spent outside the routing budget
    grace = 0.2
    out = run_ortools(
        "emergency",
        payload,
        max(0.3, remaining - 0.1),
        stop=stop,
        grace_s=grace,
        progress=progress,
        label="OR-Tools：路径优化",
    )
    plans: dict[int, list[list[int]]] = {}
    if out.routes is not None:
        for mv, seq in enumerate(out.routes):
            legs: list[list[int]] = [[]]
            for node in seq:
                if kind[node] == 2:
                    legs.append([])
                elif kind[node] == 1:
                    legs[-1].append(index_of_job[node])
            legs = [t for t in legs if t]
            if legs:
                plans[vehicles[mv]] = legs
    note = out.error or out.status
    return EngineOutput(
        plans=plans,
        found=out.routes is not None,
        cancelled=out.cancelled,
        timed_out=out.routes is None,
        note=note,
    )


class OrToolsEngine:
    """OR-Tools on the exact objective, in a hard-stopped child (see the module docstring)."""

    name = "ortools"

    def solve(self, task: EngineTask) -> EngineOutput:
        t = task
        return _solve_emergency(
            t.problem, t.prepared, t.options, t.deadline, t.stop, t.progress, initial=t.initial
        )


ORTOOLS = OrToolsEngine()
