"""The dispatch pipeline: Scenario + road network → :class:`dispatch.plan.Plan`, and the CLI.

:func:`plan_dispatch` runs, in order:

1. snap every stockpile, team, open incident and shelter to the road network and build one
   :class:`gis.matrix.TravelTimeEngine` with the scenario's closures; travel matrices
   stockpiles × sites, teams × incidents, incidents × shelters and the routing matrix over
   depots + sites (seconds and metres, node-to-node). A place farther than
   ``DispatchOptions.max_offroad_m`` from the nearest road (typically a wrong coordinate or a
   layer in the wrong CRS) is treated as unreachable — every need there is reported 不可达 and
   the plan notes name the place and the distance — instead of being served at its snapped
   node hundreds of kilometres away;
2. evacuation of the affected people of open incidents to shelters; the shelters' supply
   deficits (per-person standard × days) become extra allocation sites;
3. material allocation stockpiles → incidents + shelters in need;
4. team assignment;
5. vehicle routing of the allocation with the stockpiles' vehicles (time limit
   ``options.seconds``);
6. dispatch orders (调拨单 per vehicle, 派遣令 per team) with turn lists from the engine's paths.

Progress is reported per stage; ``stop()`` is passed to each solver and checked between stages:
a stopped run returns the partial plan (stages not run are recorded as CANCELLED, the overall
status is CANCELLED). A plan is always returned; what could not be served is listed with reasons.

Times: every ETA is counted from the plan's time (``DispatchOptions.created_at``, default now),
and an incident's ``deadline_min`` is read as "minutes from the plan's time" (the golden hour
still left), not from ``reported_at``.

Without a road network (``network=None``) travel times are estimated from straight-line
distance (× 1.3 detour at 30 km/h) and orders carry straight-line sketches; the plan says so.
"""

from __future__ import annotations

import dataclasses
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.orders import build_orders
from dispatch.plan import DEFAULT_PREFIX, Plan, next_plan_number, scenario_hash, with_plan
from dispatch.records import (
    AllocationLine,
    EvacuationMove,
    IncidentOutcome,
    LegPath,
    MaterialRef,
    Place,
    PlanInputs,
    PlanStatus,
    RouteStop,
    StageRun,
    TeamDispatch,
    Trip,
    TurnStep,
    VehicleRoute,
)
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
from gis.errors import ReliefDeskError, ValidationError, WorkspaceError
from gis.model import Scenario

#: Default per-person-per-day supply standard of a shelter (material code → quantity):
#: 3 L water ≈ ¼ case of 24×0.55 L, 3 meals ≈ ⅛ case of 24 portions, one quilt.
DEFAULT_SHELTER_STANDARD: Mapping[str, float] = {"WATER": 0.25, "FOOD": 0.125, "QUILT": 1.0}

#: Worst-first order used for the plan's overall status.
_STATUS_RANK = {
    Status.OPTIMAL: 0,
    Status.FEASIBLE: 1,
    Status.TIMEOUT: 2,
    Status.INFEASIBLE: 3,
    Status.CANCELLED: 4,
}

_STAGE_ZH = {
    "matrix": "路网与行程时间",
    "evacuation": "人员转移",
    "allocation": "物资分配",
    "assignment": "队伍派遣",
    "routing": "车辆路径",
    "orders": "生成指令",
}

CROW_DETOUR = 1.3
CROW_SPEED_KMH = 30.0
#: Default :attr:`DispatchOptions.max_offroad_m`: an hour's walk from the road at 5 km/h.
MAX_OFFROAD_M = 5000.0


@dataclass(frozen=True)
class DispatchOptions:
    """Parameters of :func:`plan_dispatch` (all stored in the plan's audit snapshot).

    Attributes
    ----------
    seconds
        Time limit of the vehicle-routing solver (the other solvers take well under a second).
    engine
        Routing engine (``"pyvrp"`` / ``"ortools"`` / ``"hybrid"``); None = the routing
        module's default.
    routing_objective
        ``"emergency"`` (default: Σ priority × delivery completion time) or ``"travel_time"``
        (total driving time), see :class:`dispatch.routing.RoutingOptions`.
    release_safety_levels
        Response levels (1 = I … 4 = IV) for which safety stock may be released.
    allow_late
        Allocation may use stockpiles that cannot arrive before the incident deadline.
    hard_deadlines
        Incident deadlines (golden hours) are hard: vehicle routing drops deliveries that would
        arrive after the deadline (reason 超出时限) and team assignment sends no team that would
        arrive late. Default False: late is better than never — deliveries are made as early
        as the fleet allows (priority still rushes them) and the order marks them 晚于时限;
        late teams are sent with a lateness penalty and reported late.
    evacuate
        Run the evacuation stage (and feed shelter supply deficits into the allocation).
    shelter_standard, shelter_days
        Per-person-per-day supply standard of shelters and the number of days to cover.
    service_s, loading_s
        Unloading time at a delivery site and loading time at the depot before each trip (s).
    max_trips
        Trips a vehicle may make (it returns to its depot to reload between them).
    max_route_s
        Maximum duration of a vehicle's working day (all trips), seconds.
    prefix
        Plan number prefix (default: scenario metadata ``plan_prefix``, else ``HJ``).
    created_at
        The plan's time (default: now); ETAs are counted from it.
    existing_numbers
        Plan numbers already used (the next free daily sequence is taken).
    pins, forbids
        Operator decisions for team assignment: (team_id, incident_id) pairs.
    max_offroad_m
        A stockpile, team, incident or shelter farther than this from the nearest road is
        unreachable (with a note naming it). Only used with a road network.
    """

    seconds: float = 10.0
    engine: str | None = None
    release_safety_levels: tuple[int, ...] = (1, 2)
    allow_late: bool = False
    hard_deadlines: bool = False
    evacuate: bool = True
    shelter_standard: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_SHELTER_STANDARD)
    )
    shelter_days: float = 1.0
    service_s: int = 600
    loading_s: int = 900
    max_trips: int = 6
    max_route_s: int = 12 * 3600
    prefix: str | None = None
    created_at: datetime | None = None
    existing_numbers: tuple[str, ...] = ()
    pins: tuple[tuple[str, str], ...] = ()
    forbids: tuple[tuple[str, str], ...] = ()
    routing_objective: str = "emergency"
    max_offroad_m: float = MAX_OFFROAD_M

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DispatchOptions:
        """Options back from a plan's audit snapshot (``plan.inputs.options``), to reproduce it."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"dispatch options: unknown key(s) {', '.join(unknown)}")
        kw = dict(data)
        for name in ("release_safety_levels",):
            if name in kw:
                kw[name] = tuple(int(x) for x in kw[name])
        for name in ("pins", "forbids"):
            if name in kw:
                kw[name] = tuple((str(a), str(b)) for a, b in kw[name])
        if "shelter_standard" in kw:
            kw["shelter_standard"] = {str(k): float(v) for k, v in kw["shelter_standard"].items()}
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native snapshot (lists, dicts, numbers, text) for the plan's audit record."""
        return {
            "seconds": float(self.seconds),
            "engine": self.engine,
            "release_safety_levels": [int(x) for x in self.release_safety_levels],
            "allow_late": bool(self.allow_late),
            "hard_deadlines": bool(self.hard_deadlines),
            "evacuate": bool(self.evacuate),
            "shelter_standard": {str(k): float(v) for k, v in self.shelter_standard.items()},
            "shelter_days": float(self.shelter_days),
            "service_s": int(self.service_s),
            "loading_s": int(self.loading_s),
            "max_trips": int(self.max_trips),
            "max_route_s": int(self.max_route_s),
            "prefix": self.prefix,
            "pins": [list(p) for p in self.pins],
            "forbids": [list(p) for p in self.forbids],
            "routing_objective": str(self.routing_objective),
            "max_offroad_m": float(self.max_offroad_m),
        }


# --------------------------------------------------------------------------------------------
# Small adapters
# --------------------------------------------------------------------------------------------


def _options(cls: type, **values: Any) -> Any:
    """An options dataclass with the given values; None means "the solver's default"."""
    return cls(**{k: v for k, v in values.items() if v is not None})


def _stage(name: str, info: SolveInfo | None, message: str = "") -> StageRun:
    if info is None:
        return StageRun(_STAGE_ZH.get(name, name), Status.CANCELLED, message=message or "未运行")
    return StageRun(
        _STAGE_ZH.get(name, name),
        Status(info.status),
        None if info.objective is None else float(info.objective),
        None if info.bound is None else float(info.bound),
        float(info.runtime_s),
        str(info.engine or ""),
        message,
    )


class _Progress:
    """Maps each stage's own 0..1 progress into its slice of the whole run."""

    SLICES = {
        "matrix": (0.0, 0.12),
        "evacuation": (0.12, 0.2),
        "allocation": (0.2, 0.3),
        "assignment": (0.3, 0.4),
        "routing": (0.4, 0.92),
        "orders": (0.92, 1.0),
    }

    def __init__(self, fn: ProgressFn) -> None:
        self.fn = fn

    def stage(self, name: str) -> ProgressFn:
        lo, hi = self.SLICES[name]
        label = _STAGE_ZH[name]

        def report(fraction: float, message: str) -> None:
            f = min(max(float(fraction), 0.0), 1.0)
            self.fn(lo + (hi - lo) * f, f"{label}：{message}" if message else label)

        report(0.0, "")
        return report


# --------------------------------------------------------------------------------------------
# Travel times
# --------------------------------------------------------------------------------------------


@dataclass
class _Geo:
    """Snapped nodes of every place and a way to get matrices and paths."""

    places: dict[str, Place]
    node: dict[str, int]
    engine: Any  # TravelTimeEngine or None
    notes: list[str]
    far: frozenset[str] = frozenset()  # places too far from any road: unreachable

    def matrix(
        self, src: Sequence[str], tgt: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(seconds int64, metres int64, reachable bool) between place ids."""
        if not src or not tgt:
            z = np.zeros((len(src), len(tgt)), dtype=np.int64)
            return z, z.copy(), np.zeros((len(src), len(tgt)), dtype=bool)
        if self.engine is None:
            return _crow_matrix([self.places[s] for s in src], [self.places[t] for t in tgt])
        m = self.engine.matrix(
            np.asarray([self.node[s] for s in src], dtype=np.int64),
            np.asarray([self.node[t] for t in tgt], dtype=np.int64),
        )
        reach = np.asarray(m.reachable, dtype=bool)
        sec = np.asarray(m.seconds, dtype=np.int64)
        met = np.asarray(m.metres, dtype=np.int64)
        from gis.units import UNREACHABLE

        if self.far:
            reach = (
                reach
                & np.asarray([s not in self.far for s in src], dtype=bool)[:, None]
                & np.asarray([t not in self.far for t in tgt], dtype=bool)[None, :]
            )
        sec = np.where(reach, sec, UNREACHABLE)
        met = np.where(reach, met, UNREACHABLE)
        return sec, met, reach

    def path(self, a: str, b: str) -> LegPath | None:
        if self.engine is None or a not in self.node or b not in self.node:
            return None
        if a in self.far or b in self.far:
            return None
        p = self.engine.path(int(self.node[a]), int(self.node[b]))
        if p is None:
            return None
        steps = tuple(
            TurnStep(
                str(s.road) or "未命名道路",
                float(s.distance_m),
                float(s.seconds),
            )
            for s in (p.steps or ())
        )
        geom = p.geometry
        coords = tuple((float(x), float(y)) for x, y, *_ in geom.coords) if geom is not None else ()
        pa, pb = self.places[a], self.places[b]
        # the entity is off the road: join it to its snapped node so the line starts at it
        if coords:
            coords = ((pa.lon, pa.lat), *coords, (pb.lon, pb.lat))
        return LegPath(float(p.seconds), float(p.metres), steps, coords)


def _crow_matrix(
    src: Sequence[Place], tgt: Sequence[Place]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lon1 = np.radians([p.lon for p in src])[:, None]
    lat1 = np.radians([p.lat for p in src])[:, None]
    lon2 = np.radians([p.lon for p in tgt])[None, :]
    lat2 = np.radians([p.lat for p in tgt])[None, :]
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    metres = 2 * 6_371_000.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1))) * CROW_DETOUR
    seconds = metres / (CROW_SPEED_KMH / 3.6)
    return (
        np.rint(seconds).astype(np.int64),
        np.rint(metres).astype(np.int64),
        np.ones(metres.shape, dtype=bool),
    )


def _places(scenario: Scenario) -> dict[str, Place]:
    out: dict[str, Place] = {}
    for kind, items in (
        ("stockpile", scenario.stockpiles),
        ("incident", scenario.open_incidents()),
        ("shelter", scenario.shelters),
        ("team", scenario.teams),
    ):
        for e in items:
            if e.id in out:
                raise ValidationError(
                    f"Scenario {scenario.name!r}: id {e.id!r} is used by both a {out[e.id].kind} "
                    f"and a {kind}; dispatch needs ids unique across entity kinds"
                )
            out[e.id] = Place(e.id, e.name, kind, e.location.lon, e.location.lat)
    return out


def _snap(scenario: Scenario, network: Any, max_offroad_m: float = MAX_OFFROAD_M) -> _Geo:
    places = _places(scenario)
    notes: list[str] = []
    if network is None:
        notes.append(
            f"无路网：行程时间按直线距离×{CROW_DETOUR:g}、{CROW_SPEED_KMH:g} 公里/小时估算"
        )
        return _Geo(places, {}, None, notes)
    from gis.matrix import TravelTimeEngine

    ids = list(places)
    snap = network.snap(
        np.asarray([places[i].lon for i in ids]), np.asarray([places[i].lat for i in ids])
    )
    node = {pid: int(n) for pid, n in zip(ids, snap.node)}
    far: set[str] = set()
    for pid, d, flagged in zip(ids, snap.distance_m, snap.flagged):
        if not np.isfinite(d) or float(d) > max_offroad_m:
            far.add(pid)
            notes.append(
                f"{places[pid].name}（{pid}）距最近道路 {float(d):.0f} 米，超过 "
                f"{max_offroad_m:.0f} 米，按不可达处理（请核对坐标及坐标系）"
            )
        elif flagged:
            notes.append(f"{places[pid].name}（{pid}）距最近道路 {float(d):.0f} 米")
    engine = TravelTimeEngine(network, scenario.closures)
    return _Geo(places, node, engine, notes, frozenset(far))


# --------------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------------


def _evacuation(
    scenario: Scenario, geo: _Geo, options: DispatchOptions, stop: StopFn, progress: ProgressFn
) -> tuple[Any, list[Any], tuple[EvacuationMove, ...]]:
    """Returns (result, extra allocation sites for shelters in need, moves)."""
    from dispatch.evacuation import shelter_supply_deficits, solve_evacuation
    from dispatch.problems import build_evacuation_problem

    groups = [i for i in scenario.open_incidents() if i.affected_people > 0]
    shelters = list(scenario.shelters)
    sec, _, reach = geo.matrix([g.id for g in groups], [s.id for s in shelters])
    problem = build_evacuation_problem(scenario, sec, reachable=reach, shelters=shelters)
    result = solve_evacuation(problem, stop=stop, progress=progress)
    moves = tuple(
        EvacuationMove(str(m.group_id), str(m.shelter_id), int(m.people), float(m.travel_s))
        for m in result.moves
    )
    materials = scenario.material_index
    standard = {k: float(v) for k, v in options.shelter_standard.items() if k in materials}
    extra: list[Any] = []
    if standard and moves:
        extra = list(
            shelter_supply_deficits(
                result.moves, shelters, standard, options.shelter_days, materials=materials
            )
        )
    return result, extra, moves


def _allocation(
    scenario: Scenario,
    geo: _Geo,
    options: DispatchOptions,
    extra: list[Any],
    stop: StopFn,
    progress: ProgressFn,
) -> tuple[Any, tuple[AllocationLine, ...]]:
    from dispatch.allocation import AllocationOptions, solve_allocation
    from dispatch.problems import AllocationSite, build_allocation_problem

    sites = [AllocationSite.from_incident(i) for i in scenario.open_incidents() if i.needs]
    sites += list(extra)
    sps = [s.id for s in scenario.stockpiles]
    sec, _, reach = geo.matrix(sps, [s.id for s in sites])
    problem = build_allocation_problem(scenario, sec, sites=sites, reachable=reach)
    opts = _options(
        AllocationOptions,
        release_safety_levels=tuple(options.release_safety_levels),
        allow_late=options.allow_late,
    )
    result = solve_allocation(problem, opts, stop=stop, progress=progress)
    lines = tuple(
        AllocationLine(
            str(ln.site_id),
            str(ln.material),
            str(ln.stockpile_id),
            float(ln.quantity),
            float(ln.travel_s),
        )
        for ln in result.lines
    )
    return result, lines


def _assignment(
    scenario: Scenario, geo: _Geo, options: DispatchOptions, stop: StopFn, progress: ProgressFn
) -> tuple[Any, tuple[TeamDispatch, ...]]:
    from dispatch.assignment import AssignmentOptions, solve_assignment
    from dispatch.problems import build_assignment_problem

    incidents = [i for i in scenario.open_incidents() if i.required_skills]
    sec, _, reach = geo.matrix([t.id for t in scenario.teams], [i.id for i in incidents])
    problem = build_assignment_problem(
        scenario,
        sec,
        incidents=incidents,
        reachable=reach,
        pins=options.pins,
        forbids=options.forbids,
    )
    opts = AssignmentOptions(hard_deadlines=bool(options.hard_deadlines))
    result = solve_assignment(problem, opts, stop=stop, progress=progress)
    teams = {t.id: t for t in scenario.teams}
    out = []
    for a in result.assignments:
        team = teams.get(a.team_id)
        contributes = {str(k): int(v) for k, v in dict(a.contributes).items() if v > 0}
        skills = tuple(contributes) or (team.skills if team is not None else ())
        out.append(
            TeamDispatch(
                str(a.team_id),
                str(a.incident_id),
                float(a.eta_s),
                int(team.headcount) if team is not None else sum(contributes.values()),
                tuple(skills),
                contributes,
            )
        )
    return result, tuple(out)


def _routing(
    scenario: Scenario,
    geo: _Geo,
    options: DispatchOptions,
    lines: Sequence[AllocationLine],
    stop: StopFn,
    progress: ProgressFn,
) -> tuple[Any, tuple[VehicleRoute, ...]]:
    """Deliver the allocation: one delivery per (stockpile, site) pair, picked up at that
    stockpile by its own vehicles; time window [0, site deadline], priority from the site."""
    from dispatch.problems import site_priority
    from dispatch.routing import (
        Delivery,
        RoutingOptions,
        RoutingProblem,
        RoutingVehicle,
        solve_routing,
    )

    materials = scenario.material_index
    by_pair: dict[tuple[str, str], dict[str, float]] = {}
    for ln in lines:
        if ln.quantity > 0:
            d = by_pair.setdefault((ln.stockpile_id, ln.site_id), {})
            d[ln.material] = d.get(ln.material, 0.0) + ln.quantity
    depots = [s.id for s in scenario.stockpiles if any(k[0] == s.id for k in by_pair)]
    sites = sorted({k[1] for k in by_pair})
    loc_ids = depots + sites
    sec, met, reach = geo.matrix(loc_ids, loc_ids)
    incidents = {i.id: i for i in scenario.incidents}
    vehicles = [
        RoutingVehicle(
            id=v.id,
            depot=depots.index(sp.id),
            capacity_kg=v.capacity_kg,
            capacity_m3=v.capacity_m3,
            max_duration_s=int(options.max_route_s),
            max_trips=int(options.max_trips),
            speed_factor=v.speed_factor,
        )
        for sp in scenario.stockpiles
        if sp.id in depots
        for v in sp.vehicles
    ]
    deliveries = []
    for (sp_id, site), loads in sorted(by_pair.items()):
        w = sum(q * materials[c].unit_weight_kg for c, q in loads.items() if c in materials)
        vol = sum(q * materials[c].unit_volume_m3 for c, q in loads.items() if c in materials)
        inc = incidents.get(site)
        deadline = int(inc.deadline_min * 60) if inc is not None else None
        if not options.hard_deadlines:
            deadline = None  # late is better than never: priority still rushes it
        level = inc.level if inc is not None else 3
        deliveries.append(
            Delivery(
                id=f"{sp_id}>{site}",
                site=loc_ids.index(site),
                pickup_depot=depots.index(sp_id),
                weight_kg=float(w),
                volume_m3=float(vol),
                loads=dict(loads),
                service_s=int(options.service_s),
                earliest_s=0,
                deadline_s=deadline,
                priority=float(
                    site_priority(level, int(inc.deadline_min * 60) if inc is not None else None)
                ),
            )
        )
    problem = RoutingProblem(
        locations=tuple(loc_ids),
        duration_s=sec,
        distance_m=met,
        depots=tuple(depots),
        vehicles=tuple(vehicles),
        deliveries=tuple(deliveries),
        loading_s=int(options.loading_s),
        reachable=reach,
    )
    opts = _options(
        RoutingOptions,
        engine=options.engine,
        objective=options.routing_objective,
        time_limit_s=float(options.seconds),
    )
    result = solve_routing(problem, opts, stop=stop, progress=progress)
    # make the solver's messages readable: delivery ids and site ids → names
    labels = {
        f"{sp_id}>{site}": f"{geo.places[sp_id].name}→{geo.places[site].name}"
        for sp_id, site in by_pair
    }
    readable = []
    for k, u in enumerate(result.unserved):
        did = result.unserved_ids[k] if k < len(result.unserved_ids) else ""
        msg = u.message_zh.replace(did, labels.get(did, did)) if did else u.message_zh
        if u.site_id in geo.places:
            msg = msg.replace(u.site_id, geo.places[u.site_id].name)
        readable.append(dataclasses.replace(u, message_zh=msg))
    return dataclasses.replace(result, unserved=tuple(readable)), _convert_routes(
        result, loc_ids, depots
    )


def _convert_routes(
    result: Any, loc_ids: Sequence[str], depots: Sequence[str]
) -> tuple[VehicleRoute, ...]:
    """dispatch.routing Route/Tour/SiteVisit (location indices) → plan records (place ids)."""
    out = []
    for r in result.routes:
        trips = tuple(
            Trip(
                depots[int(t.depot)],
                float(t.leave_s),
                float(t.return_s),
                tuple(
                    RouteStop(
                        loc_ids[int(s.site)],
                        float(s.arrival_s),
                        float(s.departure_s),
                        {str(k): float(v) for k, v in dict(s.load).items()},
                    )
                    for s in t.stops
                ),
            )
            for t in r.trips
        )
        out.append(
            VehicleRoute(
                str(r.vehicle_id),
                depots[int(r.depot)],
                trips,
                float(r.duration_s),
                float(r.distance_m),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def _outcomes(
    scenario: Scenario,
    lines: Sequence[AllocationLine],
    routes: Sequence[VehicleRoute],
    assignment: Sequence[TeamDispatch],
) -> tuple[IncidentOutcome, ...]:
    mats = scenario.material_index
    out = []
    for inc in scenario.open_incidents():
        allocated: dict[str, float] = {}
        for ln in lines:
            if ln.site_id == inc.id:
                allocated[ln.material] = allocated.get(ln.material, 0.0) + ln.quantity
        delivered: dict[str, float] = {}
        for r in routes:
            for t in r.trips:
                for s in t.stops:
                    if s.site_id == inc.id:
                        for k, v in s.loads.items():
                            delivered[k] = delivered.get(k, 0.0) + v

        def kg(d: Mapping[str, float]) -> float:
            return sum(q * (mats[c].unit_weight_kg if c in mats else 1.0) for c, q in d.items())

        need_kg = kg(inc.needs)
        got_kg = kg({c: min(delivered.get(c, 0.0), q) for c, q in inc.needs.items()})
        teams = [a for a in assignment if a.incident_id == inc.id]
        covered: dict[str, int] = {}
        for skill, n in inc.required_skills.items():
            covered[skill] = min(
                n,
                sum(
                    a.contributes.get(skill, 0)
                    if a.contributes
                    else (a.headcount if skill in a.skills else 0)
                    for a in teams
                ),
            )
        need_staff = sum(inc.required_skills.values())
        out.append(
            IncidentOutcome(
                inc.id,
                inc.name,
                inc.level,
                dict(inc.needs),
                allocated,
                delivered,
                1.0 if need_kg <= 0 else min(1.0, got_kg / need_kg),
                dict(inc.required_skills),
                covered,
                1.0 if need_staff <= 0 else sum(covered.values()) / need_staff,
                tuple(a.team_id for a in teams),
                {
                    c: q - delivered.get(c, 0.0)
                    for c, q in allocated.items()
                    if q - delivered.get(c, 0.0) > 1e-9
                },
            )
        )
    return tuple(out)


def _overall(stages: Sequence[StageRun]) -> Status:
    if not stages:
        return Status.FEASIBLE
    return max(stages, key=lambda s: _STATUS_RANK[s.status]).status


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


def plan_dispatch(
    scenario: Scenario,
    network: Any,
    options: DispatchOptions | None = None,
    *,
    stop: StopFn | None = None,
    progress: ProgressFn | None = None,
) -> Plan:
    """Compute a dispatch plan for the open incidents of ``scenario`` (see module doc)."""
    options = options or DispatchOptions()
    stop = stop or never_stop
    prog = _Progress(progress or no_progress)
    created = options.created_at or datetime.now().astimezone()
    prefix = options.prefix or scenario.metadata.get("plan_prefix") or DEFAULT_PREFIX
    number = next_plan_number(options.existing_numbers, prefix, created)

    stages: list[StageRun] = []
    unserved: list[Unserved] = []
    moves: tuple[EvacuationMove, ...] = ()
    lines: tuple[AllocationLine, ...] = ()
    assignment: tuple[TeamDispatch, ...] = ()
    routes: tuple[VehicleRoute, ...] = ()
    extra: list[Any] = []

    t0 = time.perf_counter()
    p = prog.stage("matrix")
    geo = _snap(scenario, network, float(options.max_offroad_m))
    p(1.0, f"{len(geo.places)} 个地点")
    stages.append(
        StageRun(
            _STAGE_ZH["matrix"],
            Status.OPTIMAL,
            runtime_s=time.perf_counter() - t0,
            engine="dijkstra" if geo.engine is not None else "直线估算",
        )
    )

    failures: list[str] = []

    def run(name: str, fn: Callable[[ProgressFn], Any]) -> Any:
        if stop():
            stages.append(_stage(name, None, "用户取消，未运行"))
            return None
        try:
            out = fn(prog.stage(name))
        except (ReliefDeskError, ValueError) as exc:  # bad data: report it, keep the rest
            failures.append(f"{_STAGE_ZH[name]}计算失败（{exc}）")
            stages.append(StageRun(_STAGE_ZH[name], Status.INFEASIBLE, message=failures[-1]))
            return None
        stages.append(_stage(name, out[0].info))
        unserved.extend(out[0].unserved)
        return out

    if options.evacuate:
        r = run("evacuation", lambda pg: _evacuation(scenario, geo, options, stop, pg))
        if r is not None:
            _, extra, moves = r
    r = run("allocation", lambda pg: _allocation(scenario, geo, options, extra, stop, pg))
    if r is not None:
        lines = r[1]
    r = run("assignment", lambda pg: _assignment(scenario, geo, options, stop, pg))
    if r is not None:
        assignment = r[1]
    if lines or stop():
        r = run("routing", lambda pg: _routing(scenario, geo, options, lines, stop, pg))
        if r is not None:
            routes = r[1]
    else:
        stages.append(StageRun(_STAGE_ZH["routing"], Status.OPTIMAL, message="无配送任务"))
    cancelled = any(s.status == Status.CANCELLED for s in stages)
    if cancelled or failures:
        why = "；".join(failures) if failures else "计算已取消"
        reason = Reason.CANCELLED if cancelled else Reason.FAILED
        unserved = _mark_missing(scenario, unserved, assignment, routes, why, reason)

    p = prog.stage("orders")
    places = tuple(geo.places.values())
    orders = build_orders(
        number,
        scenario=scenario,
        places=places,
        routes=routes,
        assignment=assignment,
        paths=geo.path,
    )
    p(1.0, f"{len(orders)} 份指令")
    inputs = PlanInputs(
        scenario_name=scenario.name,
        scenario_hash=scenario_hash(scenario),
        options=options.to_dict(),
        created_at=created,
        road_network=(
            f"{scenario.road_network.kind}:{getattr(network, 'content_hash', '')}"
            if network is not None
            else "none"
        ),
        notes=tuple(geo.notes),
    )
    return Plan(
        number=number,
        created_at=created,
        status=PlanStatus.DRAFT,
        overall=Status.CANCELLED if cancelled else _overall(stages),
        inputs=inputs,
        stages=tuple(stages),
        places=places,
        allocation=lines,
        assignment=assignment,
        evacuation=moves,
        routes=routes,
        unserved=tuple(unserved),
        incidents=_outcomes(scenario, lines, routes, assignment),
        orders=orders,
        materials=_material_refs(scenario, lines, unserved),
    )


def _material_refs(
    scenario: Scenario, lines: Sequence[AllocationLine], unserved: Sequence[Unserved]
) -> tuple[MaterialRef, ...]:
    codes = {c for i in scenario.open_incidents() for c in i.needs}
    codes |= {ln.material for ln in lines} | {u.what for u in unserved}
    return tuple(
        MaterialRef(m.code, m.name_zh, m.unit, m.unit_weight_kg, m.unit_volume_m3)
        for m in scenario.materials
        if m.code in codes
    )


def _mark_missing(
    scenario: Scenario,
    unserved: list[Unserved],
    assignment: Sequence[TeamDispatch],
    routes: Sequence[VehicleRoute],
    why: str,
    reason: Reason = Reason.CANCELLED,
) -> list[Unserved]:
    """After a cancelled or failed stage: list every part of an incident's needs that is neither
    delivered nor already listed, with ``reason`` (计算已取消 / 计算失败) and ``why`` in the
    message."""
    out = list(unserved)
    mats = scenario.material_index
    for inc in scenario.open_incidents():
        for code, q in inc.needs.items():
            got = sum(
                s.loads.get(code, 0.0)
                for r in routes
                for t in r.trips
                for s in t.stops
                if s.site_id == inc.id
            )
            listed = sum(u.quantity for u in unserved if u.site_id == inc.id and u.what == code)
            miss = q - got - listed
            if miss > 1e-9:
                m = mats.get(code)
                name, unit = (m.name_zh, m.unit) if m is not None else (code, "")
                out.append(
                    Unserved(
                        inc.id,
                        code,
                        miss,
                        reason,
                        f"{inc.name}：{name} {miss:g} {unit} 未送达：{why}",
                    )
                )
        for skill, n in inc.required_skills.items():
            covered = sum(
                a.contributes.get(skill, 0) for a in assignment if a.incident_id == inc.id
            )
            listed = sum(u.quantity for u in unserved if u.site_id == inc.id and u.what == skill)
            miss = n - covered - listed
            if miss > 0:
                out.append(
                    Unserved(
                        inc.id,
                        skill,
                        miss,
                        reason,
                        f"{inc.name}：{skill} {miss:g} 人未派遣：{why}",
                    )
                )
    return out


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------

OUTPUT_FILES = ("plan.json", "orders.pdf", "orders.xlsx", "plan.geojson", "plan.csv", "plan.html")


def export_all(plan: Plan, out: Path) -> dict[str, Path]:
    """Write the six output files of a plan into ``out`` (created if needed).

    All six are first written into a staging folder inside ``out`` and only moved over the
    existing files once every export succeeded: a failing export (disk full, unwritable
    folder, a bug on odd data) raises and leaves the files of an earlier run untouched, never a
    mix of old and new files.
    """
    import os
    import shutil

    from dispatch.export.csv import export_csv
    from dispatch.export.geojson import export_geojson
    from dispatch.export.html_map import export_html
    from dispatch.export.pdf import export_pdf
    from dispatch.export.xlsx import export_xlsx

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValidationError(f"output folder {out} is an existing file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in OUTPUT_FILES}
    staging = out / f".reliefdesk-export-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        staged = {name: staging / name for name in OUTPUT_FILES}
        staged["plan.json"].write_text(plan.to_json(), encoding="utf-8")
        export_pdf(plan, staged["orders.pdf"])
        export_xlsx(plan, staged["orders.xlsx"])
        export_geojson(plan, staged["plan.geojson"])
        export_csv(plan, staged["plan.csv"])
        export_html(plan, staged["plan.html"])
        for name in OUTPUT_FILES:
            staged[name].replace(files[name])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _oneline(text: str) -> str:
    """``text`` with control characters (newlines... in names from data) as spaces."""
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    text = _oneline(text)
    while _width(text) > width:
        text = text[:-2] + "…"
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def summary_text(plan: Plan, *, max_unserved: int = 10) -> str:
    """One screen of text: per incident served %, unserved with reasons, vehicles, solvers."""
    lines = [
        f"调度方案 {plan.number}　场景：{plan.inputs.scenario_name}　"
        f"求解状态：{plan.overall.label_zh}（{plan.overall.value}）",
        "",
        _pad("事件", 30)
        + _pad("级别", 6, right=True)
        + _pad("物资满足率", 12, right=True)
        + _pad("人员满足率", 12, right=True)
        + _pad("队伍", 6, right=True),
    ]
    for o in plan.incidents:
        lines.append(
            _pad(o.name, 30)
            + _pad(f"{o.level}级", 6, right=True)
            + _pad(f"{100 * o.served_fraction:.0f}%", 12, right=True)
            + _pad(f"{100 * o.staff_fraction:.0f}%", 12, right=True)
            + _pad(str(len(o.teams)), 6, right=True)
        )
    if not plan.incidents:
        lines.append("（无进行中的事件）")
    supply = [p for p in plan.places if p.kind == "shelter"]
    supplied = {ln.site_id for ln in plan.allocation} & {p.id for p in supply}
    if supplied:
        lines.append(f"避难场所补给 {len(supplied)} 处")
    lines.append("")
    if plan.unserved:
        lines.append(f"未满足需求 {len(plan.unserved)} 项：")
        for u in plan.unserved[:max_unserved]:
            where = plan.place_name(u.site_id) if u.site_id else ""
            where = "" if not where or where in u.message_zh else f"{_pad(where, 24).rstrip()}："
            lines.append(f"  - [{u.reason.value}] {where}{_oneline(u.message_zh)}")
        if len(plan.unserved) > max_unserved:
            lines.append(f"  … 另有 {len(plan.unserved) - max_unserved} 项，见 plan.json")
    else:
        lines.append("全部需求均已安排。")
    lines.append(
        f"使用车辆 {plan.vehicles_used} 辆；指令 {len(plan.orders)} 份"
        f"（调拨单 {len(plan.transfer_orders)}，派遣令 {len(plan.deploy_orders)}）；"
        f"转移 {sum(m.people for m in plan.evacuation)} 人"
    )
    lines.append(
        "求解："
        + "；".join(
            f"{s.stage} {s.status.value} {s.runtime_s:.2f}s"
            + (f"（{s.engine}）" if s.engine else "")
            for s in plan.stages
        )
    )
    for n in plan.inputs.notes[:3]:
        lines.append(f"注意：{_oneline(n)}")
    return "\n".join(lines)


def run_dispatch_cli(
    workspace: Path,
    out: Path,
    *,
    seconds: float,
    engine: str | None,
    overrides: Mapping[str, Any] | None = None,
    save: bool = False,
) -> int:
    """``python app.py dispatch WS.gpkg --out DIR``: solve, write the six files, print a summary.

    Exit code 0 even when the plan is partial. An unreadable workspace raises
    :class:`gis.errors.WorkspaceError` (app.py prints it on one line).
    """
    from gis.loading import load_road_network, open_workspace

    workspace = Path(workspace)
    try:
        ws = open_workspace(workspace)
        network = load_road_network(workspace, ws.scenario)
    except ReliefDeskError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WorkspaceError(f"cannot read workspace: {exc}", path=str(workspace)) from None
    scenario: Scenario = ws.scenario
    existing = tuple((ws.documents or {}).get("plans", {}).keys())
    options = DispatchOptions(
        seconds=float(seconds), engine=engine, existing_numbers=existing, **dict(overrides or {})
    )
    last = [-1.0]
    err = _stderr()
    show = bool(getattr(err, "isatty", lambda: False)())  # keep pipes/logs to the summary

    def progress(fraction: float, message: str) -> None:
        if show and (fraction - last[0] >= 0.1 or fraction >= 1.0):
            last[0] = fraction
            print(f"[{fraction:4.0%}] {message}", flush=True, file=err)

    t0 = time.perf_counter()
    plan = plan_dispatch(scenario, network, options, progress=progress)
    files = export_all(plan, Path(out))
    print(summary_text(plan))
    print(
        f"用时 {time.perf_counter() - t0:.1f} 秒；输出："
        + "，".join(str(p) for p in files.values())
    )
    if save:
        save_plan_to_workspace(workspace, plan)
        print(f"方案 {plan.number} 已保存到工作区 {workspace}")
    return 0


def save_plan_to_workspace(workspace: Path, plan: Plan) -> None:
    """Store ``plan`` in the workspace's documents (atomic save; roads and entities kept as read).

    Refuses when the workspace changed since the plan was computed (its scenario hash differs),
    so a plan is never filed against data it was not made from.
    """
    from gis.workspace import read_workspace, write_workspace

    full = read_workspace(Path(workspace), include_roads=True)
    if scenario_hash(full.scenario) != plan.inputs.scenario_hash:
        raise WorkspaceError(
            "the workspace changed while the plan was computed; plan not saved", path=str(workspace)
        )
    write_workspace(
        Path(workspace),
        full.scenario,
        road_nodes=full.road_nodes,
        road_edges=full.road_edges,
        documents=with_plan(full.documents, plan),
    )


def _stderr() -> Any:
    import sys

    return sys.stderr


__all__ = [
    "DEFAULT_SHELTER_STANDARD",
    "OUTPUT_FILES",
    "DispatchOptions",
    "export_all",
    "plan_dispatch",
    "run_dispatch_cli",
    "summary_text",
]
