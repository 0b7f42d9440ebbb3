"""The routing model: problem, vehicle, delivery, options and result types, and the units.

Plain data, validated on construction (:class:`gis.errors.ValidationError`); see
:mod:`dispatch.routing` for the model's semantics. Inside the engines weights and volumes are
integers (:data:`KG_UNIT` per kg, :data:`M3_UNIT` per m³) and priorities too
(:data:`PRIORITY_UNIT` per point): :func:`cap_int` rounds a capacity down, :func:`amount_int`
an amount up, so an integer plan that fits also fits in real units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from dispatch.results import SolveInfo, Unserved
from gis.errors import ValidationError
from gis.units import UNREACHABLE  # matrix entries at or above it mean "no road"

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
# Units
# ------------------------------------------------------------------------------------------


def scaled_time(seconds: int, speed: float) -> int:
    if speed == 1.0:
        return int(seconds)
    return int(math.ceil(seconds / speed - 1e-9))


def cap_int(x: float, unit: int) -> int:
    return int(math.floor(x * unit + 1e-6))


def amount_int(x: float, unit: int) -> int:
    return int(math.ceil(x * unit - 1e-6))


def fits(v: RoutingVehicle, w: float, vol: float) -> bool:
    return amount_int(w, KG_UNIT) <= cap_int(v.capacity_kg, KG_UNIT) and amount_int(
        vol, M3_UNIT
    ) <= cap_int(v.capacity_m3, M3_UNIT)


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
    #: earliest time the vehicle can load at its depot (a vehicle still out on an issued trip
    #: at a re-plan is free again when it is back; default 0 = now)
    ready_s: int = 0


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
            if not 0 <= v.ready_s < v.max_duration_s:
                raise ValidationError(f"{where}: ready_s must be in [0, max_duration_s)")
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
        return scaled_time(int(self.duration_s[i, j]), vehicle.speed_factor)


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
