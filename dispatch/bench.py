"""Benchmark-format readers, solvers and command line (CVRPLIB CVRP and Solomon VRPTW).

Usage::

    python -m dispatch.bench cvrp FILE.vrp --seconds S [--engine pyvrp|ortools] [--seed N]
    python -m dispatch.bench vrptw FILE.txt --seconds S [--engine pyvrp|ortools] [--seed N]
    python -m dispatch.bench pmedian FILE --seconds S          (OR-Library pmed format)
    python -m dispatch.bench cflp FILE [--capacity C] --seconds S   (OR-Library cap format)

Output: one JSON line.

- ``cvrp``: ``{"cost": int, "routes": [[node ids], ...]}``. Node ids are those of the file's
  ``NODE_COORD_SECTION`` (the depot, normally node 1, is excluded); cost is the sum of
  nint-rounded Euclidean edge lengths (TSPLIB ``EUC_2D``), recomputed from the routes.
- ``vrptw``: ``{"vehicles": int, "distance": float, "routes": [[customer ids], ...]}``, customer
  ids from the ``CUST NO.`` column, distance in full double precision. Objective: fewest
  vehicles, then distance. Service times count for time windows, not for the cost.
- ``pmedian``: ``{"objective": int, "medians": [1-based vertex ids], "status", "bound"}``;
  ``cflp``: ``{"objective": float, "open": [1-based ids], "status", "bound"}`` (splittable
  demand; ``--capacity`` overrides every capacity, needed for capa/b/c). Readers and solvers:
  :mod:`dispatch.planning.orlib`.

A bad file prints one line on stderr and exits with status 2.

Solvers
-------
PyVRP (default; iterated local search) measures best here (see ``benchmarks/bench_vrp.py``).
For VRPTW it runs a *fleet-minimisation loop*: a first solve with a fixed cost per vehicle,
then route-elimination attempts with one vehicle fewer than the best feasible solution (each
stopped at its first feasible solution or a time cap), then the remaining time minimises
distance with the smallest fleet found, warm-started. Distances are scaled by 1000 and rounded for the cost;
travel times are scaled and rounded *up*, so any solution feasible in integers is feasible in
exact arithmetic. OR-Tools (guided local search, hard-stopped child process) is the
alternative engine: for VRPTW it uses a large fixed cost per vehicle.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gis.errors import ReliefDeskError, ValidationError

SCALE = 1000  # VRPTW: integer units per distance/time unit
INFEASIBLE_COST = 2**63 - 1  # what PyVRP's CostEvaluator.cost() returns for an infeasible solution
ENGINES = ("pyvrp", "ortools")


# ------------------------------------------------------------------------------------------
# Instances
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CvrpInstance:
    """A CVRP instance: index 0 is the depot; ``ids`` are the file's node numbers."""

    name: str
    ids: tuple[int, ...]
    coords: np.ndarray  # (n, 2)
    demand: np.ndarray  # (n,) int, 0 at the depot
    capacity: int

    @property
    def distance(self) -> np.ndarray:
        """TSPLIB EUC_2D: nint(Euclidean length) = floor(d + 0.5)."""
        d = np.hypot(*(self.coords[:, None, :] - self.coords[None, :, :]).transpose(2, 0, 1))
        return np.floor(d + 0.5).astype(np.int64)


@dataclass(frozen=True)
class VrptwInstance:
    """A Solomon instance: index 0 is the depot; ``ids`` are the ``CUST NO.`` values."""

    name: str
    ids: tuple[int, ...]
    coords: np.ndarray  # (n, 2)
    demand: np.ndarray  # (n,)
    ready: np.ndarray  # (n,)
    due: np.ndarray  # (n,)
    service: np.ndarray  # (n,)
    capacity: int
    num_vehicles: int

    @property
    def distance(self) -> np.ndarray:
        return np.hypot(*(self.coords[:, None, :] - self.coords[None, :, :]).transpose(2, 0, 1))


def read_cvrp(path: str | Path) -> CvrpInstance:
    """Read a CVRPLIB ``.vrp`` file (EUC_2D, one depot); raise ValidationError when invalid."""
    import vrplib

    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc})") from None
    header = {}
    for line in text.splitlines():
        if ":" in line and not line.strip()[:1].isdigit():
            key, _, val = line.partition(":")
            header[key.strip().upper()] = val.strip()
        if line.strip().upper().startswith("NODE_COORD_SECTION"):
            break
    if header.get("TYPE", "CVRP").upper() != "CVRP":
        raise ValidationError(f"{path}: TYPE is {header['TYPE']!r}, expected CVRP")
    ewt = header.get("EDGE_WEIGHT_TYPE", "").upper()
    if ewt != "EUC_2D":
        raise ValidationError(f"{path}: EDGE_WEIGHT_TYPE is {ewt or 'missing'!r}, need EUC_2D")
    try:
        inst = vrplib.read_instance(str(path), compute_edge_weights=False)
    except Exception as exc:  # vrplib raises assorted errors on malformed input
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(f"{path}: not a readable VRPLIB file ({msg})") from None
    for key in ("node_coord", "demand", "capacity", "depot"):
        if key not in inst:
            raise ValidationError(f"{path}: section or field {key.upper()!r} is missing")
    coords = np.asarray(inst["node_coord"], dtype=float)
    demand = np.asarray(inst["demand"], dtype=float)
    depots = np.atleast_1d(np.asarray(inst["depot"], dtype=int))
    dim = int(inst.get("dimension", len(coords)))
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) != dim:
        raise ValidationError(f"{path}: NODE_COORD_SECTION has {len(coords)} rows, DIMENSION {dim}")
    if len(demand) != dim:
        raise ValidationError(f"{path}: DEMAND_SECTION has {len(demand)} rows, DIMENSION {dim}")
    if not np.all(np.isfinite(coords)) or not np.all(np.isfinite(demand)):
        raise ValidationError(f"{path}: non-numeric coordinate or demand")
    if len(depots) != 1 or not 0 <= depots[0] < dim:
        raise ValidationError(f"{path}: DEPOT_SECTION must name exactly one node")
    capacity = float(inst["capacity"])
    if capacity <= 0 or not capacity.is_integer():
        raise ValidationError(f"{path}: CAPACITY must be a positive integer, got {capacity}")
    if np.any(demand < 0) or np.any(demand != np.round(demand)):
        raise ValidationError(f"{path}: demands must be non-negative integers")
    over = np.nonzero(demand > capacity)[0]
    if len(over):
        raise ValidationError(
            f"{path}: node {over[0] + 1} demand {demand[over[0]]:g} exceeds CAPACITY {capacity:g}"
        )
    order = [int(depots[0])] + [i for i in range(dim) if i != depots[0]]
    demand = demand[order].astype(np.int64)
    demand[0] = 0
    return CvrpInstance(
        name=str(inst.get("name", path.stem)),
        ids=tuple(i + 1 for i in order),
        coords=coords[order],
        demand=demand,
        capacity=int(capacity),
    )


def read_solomon(path: str | Path) -> VrptwInstance:
    """Read a Solomon VRPTW file; raise ValidationError naming the line when invalid."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: file not found")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read the file ({exc})") from None
    name = next((ln.strip() for ln in lines if ln.strip()), "")
    num_vehicles = capacity = None
    rows: list[tuple[int, list[float]]] = []
    section = None
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        upper = line.upper()
        if not line:
            continue
        if upper.startswith("VEHICLE"):
            section = "vehicle"
            continue
        if upper.startswith("CUSTOMER"):
            section = "customer"
            continue
        if upper.startswith("NUMBER") or upper.startswith("CUST"):
            continue
        if section == "vehicle" and num_vehicles is None:
            parts = line.split()
            try:
                num_vehicles, capacity = int(parts[0]), int(parts[1])
            except (ValueError, IndexError):
                raise ValidationError(
                    f"{path}, line {lineno}: expected 'NUMBER CAPACITY', got {line!r}"
                ) from None
        elif section == "customer":
            parts = line.split()
            try:
                vals = [float(p) for p in parts]
            except ValueError:
                raise ValidationError(
                    f"{path}, line {lineno}: non-numeric customer row {line!r}"
                ) from None
            if len(vals) != 7:
                raise ValidationError(
                    f"{path}, line {lineno}: customer row needs 7 columns, has {len(vals)}"
                )
            rows.append((lineno, vals))
    if num_vehicles is None or capacity is None:
        raise ValidationError(f"{path}: VEHICLE section (NUMBER CAPACITY) not found")
    if num_vehicles <= 0 or capacity <= 0:
        raise ValidationError(f"{path}: vehicle NUMBER and CAPACITY must be positive")
    if len(rows) < 2:
        raise ValidationError(f"{path}: CUSTOMER section needs the depot and ≥1 customer")
    arr = np.array([r[1] for r in rows])
    ids = arr[:, 0]
    if np.any(ids != np.round(ids)) or len(set(ids.tolist())) != len(ids):
        raise ValidationError(f"{path}: CUST NO. values must be distinct integers")
    for lineno, v in rows:
        if v[4] > v[5]:
            raise ValidationError(f"{path}, line {lineno}: READY TIME {v[4]:g} > DUE DATE {v[5]:g}")
        if min(v[3], v[4], v[6]) < 0:
            raise ValidationError(f"{path}, line {lineno}: negative demand, time or service")
        if v[3] > capacity:
            raise ValidationError(
                f"{path}, line {lineno}: demand {v[3]:g} exceeds vehicle CAPACITY {capacity}"
            )
    inst = VrptwInstance(
        name=name,
        ids=tuple(int(i) for i in ids),
        coords=arr[:, 1:3].copy(),
        demand=arr[:, 3].astype(np.int64),
        ready=arr[:, 4].copy(),
        due=arr[:, 5].copy(),
        service=arr[:, 6].copy(),
        capacity=capacity,
        num_vehicles=num_vehicles,
    )
    d = inst.distance
    for i in range(1, len(ids)):
        start = max(d[0, i], inst.ready[i])
        if start > inst.due[i] + 1e-9 or start + inst.service[i] + d[i, 0] > inst.due[0] + 1e-9:
            raise ValidationError(
                f"{path}, line {rows[i][0]}: customer {inst.ids[i]} cannot be served within "
                f"its time window and the depot's horizon"
            )
    return inst


# ------------------------------------------------------------------------------------------
# Evaluation (independent of the solvers)
# ------------------------------------------------------------------------------------------


def cvrp_cost(inst: CvrpInstance, routes: Sequence[Sequence[int]]) -> int:
    """Cost of ``routes`` (lists of instance indices, depot 0 excluded), nint-rounded edges."""
    d = inst.distance
    total = 0
    for r in routes:
        path = [0, *r, 0]
        total += int(sum(d[a, b] for a, b in zip(path, path[1:])))
    return total


def vrptw_check(inst: VrptwInstance, routes: Sequence[Sequence[int]]) -> float:
    """Distance of ``routes`` (instance indices); raise ValueError when infeasible."""
    d = inst.distance
    seen: list[int] = []
    total = 0.0
    for r in routes:
        if not r:
            continue
        if int(inst.demand[list(r)].sum()) > inst.capacity:
            raise ValueError(f"route {r} exceeds capacity")
        t = float(inst.ready[0])
        prev = 0
        for c in r:
            t = max(t + d[prev, c], inst.ready[c])
            if t > inst.due[c] + 1e-6:
                raise ValueError(f"customer {inst.ids[c]} served at {t:.3f} > due {inst.due[c]}")
            t += inst.service[c]
            total += d[prev, c]
            prev = c
        t += d[prev, 0]
        total += d[prev, 0]
        if t > inst.due[0] + 1e-6:
            raise ValueError(f"route {r} returns at {t:.3f} after the depot closes")
        seen.extend(r)
    if sorted(seen) != list(range(1, len(inst.ids))):
        raise ValueError("not every customer is visited exactly once")
    return total


# ------------------------------------------------------------------------------------------
# PyVRP
# ------------------------------------------------------------------------------------------


class _Until:
    """PyVRP stopping criterion: a wall-clock deadline, optionally 'first feasible'."""

    def __init__(self, deadline: float, first_feasible: bool = False) -> None:
        self.deadline = deadline
        self.first_feasible = first_feasible

    def __call__(self, best_cost: float) -> bool:
        if self.first_feasible and best_cost < INFEASIBLE_COST:
            return True
        return time.perf_counter() >= self.deadline


def _pyvrp_routes(solution: object) -> list[list[int]]:
    """Per route, the instance indices visited (location i is client i − 1; depot 0)."""
    return [
        [a.idx + 1 for a in r if a.is_client()]
        for r in solution.routes()  # type: ignore[attr-defined]
    ]


def solve_cvrp_pyvrp(inst: CvrpInstance, seconds: float, seed: int = 0) -> list[list[int]]:
    """Routes (instance indices) found by PyVRP within ``seconds``."""
    import pyvrp

    n = len(inst.ids)
    dist: Any = inst.distance
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(float(x), float(y)) for x, y in inst.coords],
        clients=[pyvrp.Client(location=i, delivery=[int(inst.demand[i])]) for i in range(1, n)],
        depots=[pyvrp.Depot(location=0)],
        vehicle_types=[pyvrp.VehicleType(num_available=n - 1, capacity=[inst.capacity])],
        distance_matrices=[dist],
        duration_matrices=[np.zeros_like(dist)],
    )
    res = pyvrp.solve(
        data, stop=_Until(time.perf_counter() + seconds), seed=seed, collect_stats=False
    )
    if not res.best.is_feasible():  # pragma: no cover - CVRP always has a feasible solution
        raise RuntimeError("PyVRP found no feasible solution")
    return _pyvrp_routes(res.best)


def _vrptw_data(inst: VrptwInstance, num_vehicles: int, fixed_cost: int) -> Any:
    import pyvrp

    n = len(inst.ids)
    d = inst.distance
    dist: Any = np.round(d * SCALE).astype(np.int64)
    dur: Any = np.ceil(d * SCALE - 1e-9).astype(np.int64)
    s = SCALE
    return pyvrp.ProblemData(
        locations=[pyvrp.Location(float(x), float(y)) for x, y in inst.coords],
        clients=[
            pyvrp.Client(
                location=i,
                delivery=[int(inst.demand[i])],
                service_duration=int(round(inst.service[i] * s)),
                tw_early=int(round(inst.ready[i] * s)),
                tw_late=int(round(inst.due[i] * s)),
            )
            for i in range(1, n)
        ],
        depots=[
            pyvrp.Depot(location=0, tw_early=int(inst.ready[0] * s), tw_late=int(inst.due[0] * s))
        ],
        vehicle_types=[
            pyvrp.VehicleType(
                num_available=num_vehicles,
                capacity=[inst.capacity],
                tw_early=int(round(inst.ready[0] * s)),
                tw_late=int(round(inst.due[0] * s)),
                fixed_cost=fixed_cost,
            )
        ],
        distance_matrices=[dist],
        duration_matrices=[dur],
    )


def solve_vrptw_pyvrp(inst: VrptwInstance, seconds: float, seed: int = 0) -> list[list[int]]:
    """Fewest vehicles, then distance, with PyVRP and a fleet-minimisation loop.

    Budget split: ≤ 10 % for a first solve with a fixed vehicle cost (≈ the longest possible
    route), then fleet-reduction attempts until 70 % of the budget, then distance minimisation
    with the smallest fleet, warm-started. Each reduction attempt is a *route elimination*: the
    best solution minus its smallest route (whose customers are appended to the routes ending
    nearest) is repaired by PyVRP's penalised search with one vehicle fewer, stopping at the
    first feasible solution.
    """
    import pyvrp

    t0 = time.perf_counter()
    end = t0 + seconds
    n = len(inst.ids)
    fleet = max(inst.num_vehicles, 1)
    d = inst.distance
    fixed = int(2 * d[0].max() * SCALE) + 1
    data = _vrptw_data(inst, fleet, fixed)
    res = pyvrp.solve(data, stop=_Until(t0 + 0.1 * seconds), seed=seed, collect_stats=False)
    if not res.best.is_feasible():
        # the file's fleet may be too small for us: allow one vehicle per customer
        fleet = n - 1
        data = _vrptw_data(inst, fleet, fixed)
        res = pyvrp.solve(data, stop=_Until(t0 + 0.3 * seconds), seed=seed, collect_stats=False)
        if not res.best.is_feasible():
            raise RuntimeError("PyVRP found no feasible solution in the time given")
    best = res.best
    k = best.num_routes()
    reduce_until = t0 + 0.7 * seconds
    attempt = 0
    while k > 1 and time.perf_counter() < reduce_until:
        attempt += 1
        trial = _vrptw_data(inst, k - 1, fixed)
        # Route elimination: start from the best solution minus its smallest route; the
        # search (with penalties) must re-insert those customers into k − 1 routes.
        # (The removed customers are appended to the routes whose ends are nearest: the warm
        # start must be complete, as PyVRP counts an incomplete solution as "feasible".)
        smallest, *routes = sorted(_pyvrp_routes(best), key=len)
        for c in smallest:
            ends = [float(d[r[-1], c]) for r in routes]
            routes[ends.index(min(ends))].append(c)
        warm = pyvrp.Solution(trial, [[c - 1 for c in r] for r in routes])
        r = pyvrp.solve(
            trial,
            stop=_Until(reduce_until, first_feasible=True),
            seed=seed + attempt,
            collect_stats=False,
            initial_solution=warm,
        )
        if not r.best.is_feasible():
            break
        best, k = r.best, r.best.num_routes()
    final = _vrptw_data(inst, k, fixed)
    warm = pyvrp.Solution(final, [[c - 1 for c in r] for r in _pyvrp_routes(best)])
    r = pyvrp.solve(final, stop=_Until(end), seed=seed, collect_stats=False, initial_solution=warm)
    if r.best.is_feasible() and (
        r.best.num_routes(),
        r.best.distance(),
    ) <= (best.num_routes(), best.distance()):
        best = r.best
    return [rt for rt in _pyvrp_routes(best) if rt]


# ------------------------------------------------------------------------------------------
# OR-Tools (hard-stopped child process)
# ------------------------------------------------------------------------------------------


def solve_cvrp_ortools(inst: CvrpInstance, seconds: float) -> list[list[int]]:
    from dispatch.routing.engines.ortools import run_ortools

    lb = math.ceil(int(inst.demand.sum()) / inst.capacity)
    payload = {
        "distance": inst.distance,
        "demand": inst.demand,
        "capacity": inst.capacity,
        "num_vehicles": min(len(inst.ids) - 1, lb + max(2, lb // 3)),
        "first_solution": "SAVINGS",
    }
    out = run_ortools("cvrp", payload, max(0.5, seconds - 0.2), grace_s=0.4)
    if out.routes is None:
        raise RuntimeError(f"OR-Tools found no solution ({out.error or out.status})")
    return [r for r in out.routes if r]


def solve_vrptw_ortools(inst: VrptwInstance, seconds: float) -> list[list[int]]:
    from dispatch.routing.engines.ortools import run_ortools

    d = inst.distance
    s = SCALE
    travel = (
        np.ceil(d * s - 1e-9).astype(np.int64)
        + np.round(inst.service * s).astype(np.int64)[:, None]
    )
    tw = np.stack([np.round(inst.ready * s), np.round(inst.due * s)], axis=1).astype(np.int64)
    payload = {
        "distance": np.round(d * s).astype(np.int64),
        "travel": travel,
        "tw": tw,
        "demand": inst.demand,
        "capacity": inst.capacity,
        "num_vehicles": max(inst.num_vehicles, 1),
        "fixed_cost": int(2 * d[0].max() * s) * 10,
        "first_solution": "PARALLEL_CHEAPEST_INSERTION",
    }
    out = run_ortools("vrptw", payload, max(0.5, seconds - 0.2), grace_s=0.4)
    if out.routes is None:
        raise RuntimeError(f"OR-Tools found no solution ({out.error or out.status})")
    return [r for r in out.routes if r]


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        sys.stderr.write(f"dispatch.bench: {message}\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m dispatch.bench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="problem", required=True, parser_class=_Parser)
    for name, helptext in (("cvrp", "CVRPLIB .vrp file"), ("vrptw", "Solomon .txt file")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("file", type=Path)
        sp.add_argument("--seconds", type=float, required=True, help="total wall-clock budget")
        sp.add_argument("--engine", choices=ENGINES, default="pyvrp")
        sp.add_argument("--seed", type=int, default=0)
    for name, helptext in (("pmedian", "OR-Library pmed file"), ("cflp", "OR-Library cap file")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("file", type=Path)
        sp.add_argument("--seconds", type=float, required=True, help="total wall-clock budget")
        if name == "cflp":
            sp.add_argument("--capacity", type=float, default=None, help="override capacities")
    return p


def run(argv: Sequence[str] | None = None, *, started: float | None = None) -> dict:
    """Parse ``argv``, solve, and return the JSON-ready result (raises ReliefDeskError)."""
    started = time.perf_counter() if started is None else started
    args = _parser().parse_args(argv)
    if not (args.seconds > 0 and math.isfinite(args.seconds)):
        raise ValidationError(f"--seconds must be a positive number, got {args.seconds}")
    if args.problem in ("pmedian", "cflp"):
        from dispatch.planning import orlib

        seconds = args.seconds - (time.perf_counter() - started)
        if args.problem == "pmedian":
            return orlib.run_pmedian(args.file, seconds)
        return orlib.run_cflp(args.file, args.capacity, seconds)
    if args.problem == "cvrp":
        inst = read_cvrp(args.file)
        budget = 0.97 * args.seconds - (time.perf_counter() - started) - 0.1
        if args.engine == "pyvrp":
            routes = solve_cvrp_pyvrp(inst, max(0.1, budget), seed=args.seed)
        else:
            routes = solve_cvrp_ortools(inst, max(0.1, budget))
        routes = [r for r in routes if r]
        return {
            "cost": cvrp_cost(inst, routes),
            "routes": [[inst.ids[c] for c in r] for r in routes],
        }
    tw_inst = read_solomon(args.file)
    budget = 0.97 * args.seconds - (time.perf_counter() - started) - 0.1
    if args.engine == "pyvrp":
        routes = solve_vrptw_pyvrp(tw_inst, max(0.1, budget), seed=args.seed)
    else:
        routes = solve_vrptw_ortools(tw_inst, max(0.1, budget))
    distance = vrptw_check(tw_inst, routes)
    return {
        "vehicles": len(routes),
        "distance": round(distance, 6),
        "routes": [[tw_inst.ids[c] for c in r] for r in routes],
    }


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    warnings.filterwarnings("ignore", module="pyvrp")  # keep stderr for errors only
    try:
        result = run(argv, started=started)
    except (ReliefDeskError, OSError) as exc:
        sys.stderr.write(f"dispatch.bench: {exc}\n")
        return 2
    except RuntimeError as exc:
        sys.stderr.write(f"dispatch.bench: no solution: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
