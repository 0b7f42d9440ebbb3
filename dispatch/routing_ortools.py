"""OR-Tools routing behind a hard stop.

OR-Tools' guided local search can overrun its time limit (and cannot be interrupted from
Python), so every model is built and solved in a child process started with the ``spawn``
method. The child reports each improving solution through a pipe (from an
``AddAtSolutionCallback``); the parent keeps the last one, polls ``stop()`` and kills the child
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

import multiprocessing as mp
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.results import StopFn, never_stop

#: Seconds granted to the child beyond its time limit before it is killed.
DEFAULT_GRACE_S = 1.5


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
    """One depot (node 0), sites 1..s, reload nodes after them (each tied to one vehicle)."""
    from ortools.constraint_solver import pywrapcp

    dist: np.ndarray = payload["distance"]  # (n, n) node-indexed metres
    travel: list[np.ndarray] = payload["travel"]  # per vehicle (n, n) seconds, no service
    service: np.ndarray = payload["service"]  # (n,) seconds spent at a node before leaving
    tw: np.ndarray = payload["tw"]  # (n, 2)
    weight: np.ndarray = payload["weight"]  # (n,) integer units (scaled kg), reload = 0
    volume: np.ndarray = payload["volume"]
    priority: np.ndarray = payload["priority"]  # (n,) integer weights, 0 for depot/reloads
    reload_owner: np.ndarray = payload["reload_owner"]  # (n,) vehicle or -1
    caps_w: list[int] = payload["cap_weight"]
    caps_v: list[int] = payload["cap_volume"]
    max_dur: list[int] = payload["max_duration"]
    objective = payload["objective"]
    n = dist.shape[0]
    k = len(caps_w)
    manager = pywrapcp.RoutingIndexManager(n, k, 0)
    routing = pywrapcp.RoutingModel(manager)

    time_cbs = []
    for v in range(k):
        mat = travel[v] + service[:, None]
        time_cbs.append(routing.RegisterTransitMatrix(mat.astype(int).tolist()))
    horizon = int(max(max_dur)) if max_dur else 0
    horizon = max(horizon, int(tw[:, 1].max()) + int(service.max()) + 1)
    routing.AddDimensionWithVehicleTransits(time_cbs, horizon, horizon, True, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for v in range(k):
        time_dim.CumulVar(routing.End(v)).SetMax(int(max_dur[v]))
    sites = [i for i in range(1, n) if reload_owner[i] < 0]
    reloads = [i for i in range(1, n) if reload_owner[i] >= 0]
    for node in sites:
        idx = manager.NodeToIndex(node)
        time_dim.CumulVar(idx).SetRange(int(tw[node, 0]), int(tw[node, 1]))
    # Arc costs = travel time (also what guided local search penalises); in emergency mode the
    # soft upper bounds at 0 on the time cumul (= start of service at a site) add
    # Σ priority_int × start, which dominates (priority_int = round(10 × priority) ≥ 1).
    for v in range(k):
        routing.SetArcCostEvaluatorOfVehicle(time_cbs[v], v)
    if objective == "emergency":
        for node in sites:
            time_dim.SetCumulVarSoftUpperBound(
                manager.NodeToIndex(node), 0, max(1, int(priority[node]))
            )

    # Capacity with reloads: the load cumul counts what was loaded since the last depot visit;
    # a reload node subtracts the capacity and its slack (free only there) lets it reset.
    for name, amounts, caps in (("kg", weight, caps_w), ("m3", volume, caps_v)):
        cap_max = int(max(caps)) if caps else 0
        vec = [int(a) for a in amounts]
        for node in reloads:
            vec[node] = -cap_max
        cb = routing.RegisterUnaryTransitVector(vec)
        routing.AddDimensionWithVehicleCapacity(cb, cap_max, [int(c) for c in caps], True, name)
        dim = routing.GetDimensionOrDie(name)
        for node in range(1, n):
            if reload_owner[node] < 0:
                dim.SlackVar(manager.NodeToIndex(node)).SetValue(0)
    for node in reloads:
        idx = manager.NodeToIndex(node)
        routing.SetAllowedVehiclesForIndex([int(reload_owner[node])], idx)
        routing.AddDisjunction([idx], 0)
    allowed = payload.get("allowed")  # per site: list of vehicles or None
    if allowed is not None:
        for node in sites:
            if allowed[node] is not None:
                routing.SetAllowedVehiclesForIndex(list(allowed[node]), manager.NodeToIndex(node))
    penalty = int(payload["drop_penalty"])
    for node in sites:
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
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


def _child_main(builder: str, payload: dict[str, Any], seconds: float, conn: Any) -> None:
    try:
        manager, routing = BUILDERS[builder](payload)
        params = _default_params(payload, seconds)
        best = [None]

        def on_solution() -> None:
            cost = int(routing.CostVar().Value())
            if best[0] is None or cost < best[0]:
                best[0] = cost
                routes = _extract(manager, routing, lambda var: var.Value())
                conn.send(("sol", cost, routes))

        routing.AddAtSolutionCallback(on_solution)
        initial = payload.get("initial_routes")
        if initial is not None:
            routing.CloseModelWithParameters(params)
            assignment = routing.ReadAssignmentFromRoutes(initial, True)
            sol = routing.SolveFromAssignmentWithParameters(assignment, params)
        else:
            sol = routing.SolveWithParameters(params)
        if sol is not None:
            routes = _extract(manager, routing, sol.Value)
            conn.send(("sol", int(sol.ObjectiveValue()), routes))
        conn.send(("done", str(routing.status())))
    except Exception:  # pragma: no cover - reported to the parent
        conn.send(("error", traceback.format_exc(limit=3)))
    finally:
        conn.close()


def run_ortools(
    builder: str,
    payload: dict[str, Any],
    seconds: float,
    *,
    stop: StopFn | None = None,
    grace_s: float = DEFAULT_GRACE_S,
) -> ChildOutcome:
    """Solve ``payload`` with builder ``builder`` in a spawned child; never overruns.

    Parameters
    ----------
    builder
        ``"cvrp"``, ``"vrptw"`` or ``"emergency"``.
    payload
        Picklable model description (see the builders).
    seconds
        OR-Tools time limit. The child is killed at ``seconds + grace_s`` at the latest.
    stop
        Polled every 50 ms; when it returns True the child is killed and the best solution
        received so far is returned with ``cancelled=True``.
    """
    stop = stop or never_stop
    out = ChildOutcome()
    ctx = mp.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child_main, args=(builder, payload, seconds, child_conn), daemon=True
    )
    t0 = time.perf_counter()
    proc.start()
    child_conn.close()
    hard_deadline = t0 + seconds + grace_s + 1.0  # + 1 s for the child's interpreter start
    try:
        while True:
            if stop():
                out.cancelled = True
                break
            if time.perf_counter() > hard_deadline:
                break
            try:
                ready = parent_conn.poll(0.05)
            except (EOFError, OSError):
                break
            if not ready:
                if not proc.is_alive() and not parent_conn.poll(0):
                    break
                continue
            try:
                msg = parent_conn.recv()
            except (EOFError, OSError):
                break
            if msg[0] == "sol":
                if out.objective is None or msg[1] <= out.objective:
                    out.objective, out.routes = int(msg[1]), msg[2]
                out.solutions_seen += 1
                now = time.perf_counter() - t0
                if out.first_solution_s is None:
                    out.first_solution_s = now
                out.timeline.append((now, int(msg[1])))
            elif msg[0] == "done":
                out.finished = True
                out.status = msg[1]
                break
            elif msg[0] == "error":
                out.error = msg[1]
                break
    finally:
        if proc.is_alive():
            if not out.finished:
                out.killed = True
            proc.kill()
        proc.join(timeout=2.0)
        parent_conn.close()
    return out
