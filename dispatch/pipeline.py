"""The dispatch pipeline: Scenario + road network → :class:`dispatch.plan.Plan`.

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

Re-plans (``previous=`` the current plan, :mod:`dispatch.replan`): vehicle routing is
warm-started from the previous plan's routes, so a complete plan exists a fraction of a second
after the routing stage starts; it is handed to ``on_first_plan`` (same number, every stage
filled in) and the run then keeps improving it until the budget is spent. When the previous plan
was issued (已下达), its orders that the change does not make impossible are kept as they are
(their loads, vehicles and teams are taken out of what is solved). ``PlanInputs.first_plan_s``
records the seconds from the start of the run to its first complete plan (without a previous
plan: the end of the run) and ``PlanInputs.changes`` which orders changed.

Each stage returns a named result (:class:`EvacuationStage`, :class:`AllocationStage`,
:class:`AssignmentStage`, :class:`RoutingStage`: the solver's result and its plan records).
Travel times are in :mod:`dispatch.travel`; the CLI is :mod:`dispatch.cli`, the summary text
:mod:`dispatch.summary`, the six-file export :mod:`dispatch.export.bundle`, plan persistence
:mod:`dispatch.plan_store`.

Size: the stages, their budget and the plan's assembly read top to bottom in one module.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.evacuation_state import CarriedEvacuation, carried_evacuation, carry_scenario
from dispatch.options import DEFAULT_SHELTER_STANDARD, DispatchOptions
from dispatch.orders import build_orders
from dispatch.outcomes import incident_outcomes, safety_stock_releases
from dispatch.plan import DEFAULT_PREFIX, Plan, next_plan_number, scenario_hash
from dispatch.records import (
    AllocationLine,
    EvacuationMove,
    MaterialRef,
    PlanInputs,
    PlanStatus,
    RouteStop,
    StageRun,
    TeamDispatch,
    Trip,
    VehicleRoute,
)
from dispatch.replan import (
    Replan,
    check_previous,
    kept_team_orders,
    merged_routes,
    order_changes,
    pins,
    reduce_sites,
    solve_scenario,
    warm_start,
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
from dispatch.travel import TravelTimes, snap_places
from gis.errors import ReliefDeskError
from gis.model import Scenario

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


#: Shares of ``DispatchOptions.seconds`` the evacuation and team-assignment CP-SAT models may
#: take at most (each stops at its limit with its best plan); routing gets what is left.
EVACUATION_SHARE = 0.15
ASSIGNMENT_SHARE = 0.15
#: Routing always gets at least this share, even when earlier stages ran long.
ROUTING_MIN_SHARE = 0.2


class _Budget:
    """The run's time budget: ``seconds`` from ``t0`` shared by the solver stages."""

    def __init__(self, t0: float, seconds: float) -> None:
        self.t0 = t0
        self.seconds = max(0.05, float(seconds))

    def left(self) -> float:
        return self.t0 + self.seconds - time.perf_counter()

    def share(self, fraction: float) -> float:
        """A stage's limit: ``fraction`` of the budget, never more than is left (≥ 0.05 s)."""
        return max(0.05, min(fraction * self.seconds, self.left()))

    def rest(self) -> float:
        """The last stage's limit: what is left, at least ``ROUTING_MIN_SHARE`` of the budget."""
        return max(ROUTING_MIN_SHARE * self.seconds, self.left())


# --------------------------------------------------------------------------------------------
# Stages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvacuationStage:
    """The evacuation solver's result, the shelters' supply deficits (extra allocation sites)
    and the moves as plan records."""

    result: Any  # dispatch.evacuation.EvacuationResult
    supply_sites: tuple[Any, ...]  # dispatch.problems.AllocationSite
    moves: tuple[EvacuationMove, ...]


@dataclass(frozen=True)
class AllocationStage:
    """The allocation solver's result and its shipments as plan records."""

    result: Any  # dispatch.allocation.AllocationResult
    lines: tuple[AllocationLine, ...]


@dataclass(frozen=True)
class AssignmentStage:
    """The assignment solver's result and the team dispatches as plan records."""

    result: Any  # dispatch.assignment.AssignmentResult
    assignment: tuple[TeamDispatch, ...]


@dataclass(frozen=True)
class RoutingStage:
    """The routing result and the vehicle routes as plan records."""

    result: Any  # dispatch.routing.RoutingResult
    routes: tuple[VehicleRoute, ...]


StageResult = EvacuationStage | AllocationStage | AssignmentStage | RoutingStage


def _evacuation(
    scenario: Scenario,
    geo: TravelTimes,
    options: DispatchOptions,
    budget: _Budget,
    stop: StopFn,
    progress: ProgressFn,
    carried: CarriedEvacuation | None = None,
) -> EvacuationStage:
    """The evacuation, and the shelters in need as extra allocation sites.

    ``carried`` (drill re-plans, :mod:`dispatch.evacuation_state`): the moves kept from the
    previous plan; only the people they do not move are planned, the shelters count them, the
    plan lists them first, and every move records its road path (for the next re-plan)."""
    from dispatch.evacuation import EvacuationOptions, shelter_supply_deficits, solve_evacuation
    from dispatch.problems import build_evacuation_problem

    if carried is not None:
        scenario = carry_scenario(scenario, carried)
    groups = [i for i in scenario.open_incidents() if i.affected_people > 0]
    shelters = list(scenario.shelters)
    sec, _, reach = geo.matrix([g.id for g in groups], [s.id for s in shelters])
    problem = build_evacuation_problem(scenario, sec, reachable=reach, shelters=shelters)
    opts = EvacuationOptions(time_limit_s=budget.share(EVACUATION_SHARE), seed=int(options.seed))
    result = solve_evacuation(problem, opts, stop=stop, progress=progress)
    moves = tuple(
        EvacuationMove(str(m.group_id), str(m.shelter_id), int(m.people), float(m.travel_s))
        for m in result.moves
    )
    if carried is not None:
        moves = carried.moves + tuple(
            dataclasses.replace(m, path=leg.coords if leg is not None else ())
            for m in moves
            for leg in [geo.path(m.group_id, m.shelter_id)]
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
    return EvacuationStage(result, tuple(extra), moves)


def _allocation(
    scenario: Scenario,
    geo: TravelTimes,
    options: DispatchOptions,
    extra: Sequence[Any],
    stop: StopFn,
    progress: ProgressFn,
) -> AllocationStage:
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
        allow_late=options.late_allowed,
    )
    result = solve_allocation(problem, opts, stop=stop, progress=progress)
    lines = tuple(
        AllocationLine(
            str(ln.site_id),
            str(ln.material),
            str(ln.stockpile_id),
            float(ln.quantity),
            float(ln.travel_s),
            float(ln.from_safety_stock),
        )
        for ln in result.lines
    )
    return AllocationStage(result, lines)


def _assignment(
    scenario: Scenario,
    geo: TravelTimes,
    options: DispatchOptions,
    budget: _Budget,
    stop: StopFn,
    progress: ProgressFn,
) -> AssignmentStage:
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
    opts = AssignmentOptions(
        hard_deadlines=bool(options.hard_deadlines),
        time_limit_s=budget.share(ASSIGNMENT_SHARE),
        seed=int(options.seed),
    )
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
    return AssignmentStage(result, tuple(out))


def _routing(
    scenario: Scenario,
    geo: TravelTimes,
    options: DispatchOptions,
    budget: _Budget,
    lines: Sequence[AllocationLine],
    stop: StopFn,
    progress: ProgressFn,
    warm: Sequence[VehicleRoute] | None = None,
    on_first: Callable[[RoutingStage], None] | None = None,
    starts: Mapping[str, tuple[int, int, int]] | None = None,
) -> RoutingStage:
    """Deliver the allocation: one delivery per (stockpile, site) pair, picked up at that
    stockpile by its own vehicles; time window [0, site deadline], priority from the site.
    ``warm``: a previous plan's routes to start from; ``on_first`` then gets the first complete
    routing (see :func:`dispatch.routing.solve_routing`); ``starts``: vehicle id → (ready
    time, trips, back-by time) of vehicles free again after kept trips (:class:`Replan`)."""
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
        if v.id not in (starts or {})
        else RoutingVehicle(  # free again after its kept trips (dispatch.replan, track)
            id=v.id,
            depot=depots.index(sp.id),
            capacity_kg=v.capacity_kg,
            capacity_m3=v.capacity_m3,
            max_duration_s=starts[v.id][2],
            max_trips=starts[v.id][1],
            speed_factor=v.speed_factor,
            ready_s=starts[v.id][0],
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
        time_limit_s=budget.rest(),
        seed=int(options.seed),
    )
    # make the solver's messages readable: delivery ids and site ids → names
    labels = {
        f"{sp_id}>{site}": f"{geo.places[sp_id].name}→{geo.places[site].name}"
        for sp_id, site in by_pair
    }

    def staged(result: Any) -> RoutingStage:
        readable = []
        for k, u in enumerate(result.unserved):
            did = result.unserved_ids[k] if k < len(result.unserved_ids) else ""
            msg = u.message_zh.replace(did, labels.get(did, did)) if did else u.message_zh
            if u.site_id in geo.places:
                msg = msg.replace(u.site_id, geo.places[u.site_id].name)
            readable.append(dataclasses.replace(u, message_zh=msg))
        return RoutingStage(
            dataclasses.replace(result, unserved=tuple(readable)),
            _convert_routes(result, loc_ids, depots),
        )

    initial = None
    if warm is not None:
        initial = warm_start(warm, by_pair, lambda sp_id, site: f"{sp_id}>{site}")
    result = solve_routing(
        problem,
        opts,
        stop=stop,
        progress=progress,
        initial=initial,
        on_first=(lambda r: on_first(staged(r))) if on_first is not None else None,
    )
    return staged(result)


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


#: A vehicle carrying less than this (kg) probably had its capacity typed in tonnes.
SMALL_VEHICLE_KG = 100.0


def _fleet_notes(scenario: Scenario) -> list[str]:
    """Plausibility warnings on values that make the routing problem explode."""
    small = [
        v for sp in scenario.stockpiles for v in sp.vehicles if 0 < v.capacity_kg < SMALL_VEHICLE_KG
    ]
    if not small:
        return []
    cap = f"{small[0].capacity_kg:g}"
    more = (
        f"（另有 {len(small) - 1} 辆车载重不足 {SMALL_VEHICLE_KG:g} kg）" if len(small) > 1 else ""
    )
    return [f"车辆 {small[0].id} 载重 {cap} kg：是否应为 {cap} 吨？{more}"]


def _honest_overall(
    overall: Status,
    scenario: Scenario,
    unserved: Sequence[Unserved],
    routes: Sequence[VehicleRoute],
    assignment: Sequence[TeamDispatch],
    moves: Sequence[EvacuationMove],
) -> Status:
    """The overall status never claims OPTIMAL when needs are unserved: INFEASIBLE when nothing at
    all could be delivered, sent or moved although something was needed, else at best FEASIBLE."""
    if overall not in (Status.OPTIMAL, Status.FEASIBLE) or not unserved:
        return overall
    needed = any(
        i.needs or i.required_skills or i.affected_people for i in scenario.open_incidents()
    )
    served = any(t.stops for r in routes for t in r.trips) or bool(assignment) or bool(moves)
    if needed and not served:
        return Status.INFEASIBLE
    return Status.FEASIBLE


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
    previous: Plan | None = None,
    on_first_plan: Callable[[Plan], None] | None = None,
    track_fleet: bool = False,
) -> Plan:
    """Compute a dispatch plan for the open incidents of ``scenario`` (see module doc).

    ``previous``: the current plan when this is a re-plan (warm start, issued orders kept, the
    changes listed); ``on_first_plan`` receives the re-plan's first complete plan at once;
    ``track_fleet``: vehicles of an issued ``previous`` continue from where they are at the
    plan's time (:func:`dispatch.replan.check_previous` ``track``; drills), and people moved
    or moving stay so (:mod:`dispatch.evacuation_state`; every move records its road path)."""
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
    extra: tuple[Any, ...] = ()

    t0 = time.perf_counter()
    budget = _Budget(t0, float(options.seconds))
    p = prog.stage("matrix")
    geo = snap_places(scenario, network, float(options.max_offroad_m))
    prepared = geo.prepare(stop, p)  # a large network's hierarchy: progress and cancel here
    p(1.0, f"{len(geo.places)} 个地点")
    stages.append(
        StageRun(
            _STAGE_ZH["matrix"],
            Status.OPTIMAL if prepared else Status.CANCELLED,
            runtime_s=time.perf_counter() - t0,
            engine="dijkstra" if geo.engine is not None else "直线估算",
            message="" if prepared else "道路网络预处理已取消",
        )
    )

    failures: list[str] = []
    replan: Replan | None = None
    solve_sc, solve_opts = scenario, options
    if previous is not None:
        replan = check_previous(
            previous,
            scenario,
            geo,
            created,
            track=track_fleet,
            max_trips=int(options.max_trips),
            max_route_s=int(options.max_route_s),
            loading_s=int(options.loading_s),
        )
        solve_sc = solve_scenario(scenario, replan)
        if replan.kept_teams and not replan.teams_tracked:
            solve_opts = dataclasses.replace(options, pins=pins(replan, options.pins))
    kept_lines = replan.kept_lines() if replan is not None else ()
    kept_routes = replan.kept_routes if replan is not None else ()
    first_s: list[float] = []

    def run(name: str, fn: Callable[[ProgressFn], StageResult]) -> Any:
        if stop():
            stages.append(_stage(name, None, "用户取消，未运行"))
            return None
        try:
            out = fn(prog.stage(name))
        except (ReliefDeskError, ValueError) as exc:  # bad data: report it, keep the rest
            failures.append(f"{_STAGE_ZH[name]}计算失败（{exc}）")
            stages.append(StageRun(_STAGE_ZH[name], Status.INFEASIBLE, message=failures[-1]))
            return None
        stages.append(_stage(name, out.result.info))
        unserved.extend(geo.explain(out.result.unserved))  # 事发点距道路… instead of 道路中断
        return out

    carried = CarriedEvacuation() if track_fleet else None  # (moves record their paths)
    if previous is not None and track_fleet:  # people moved before the re-plan stay moved
        carried = carried_evacuation(previous, scenario, created)
    if options.evacuate:
        ev = run(
            "evacuation",
            lambda pg: _evacuation(scenario, geo, options, budget, stop, pg, carried),
        )
        if ev is not None:
            extra, moves = ev.supply_sites, ev.moves
            if replan is not None:
                extra = reduce_sites(extra, replan)
    al = run("allocation", lambda pg: _allocation(solve_sc, geo, options, extra, stop, pg))
    if al is not None:
        lines = al.lines
    asg = run("assignment", lambda pg: _assignment(solve_sc, geo, solve_opts, budget, stop, pg))
    if asg is not None:
        assignment = asg.assignment
    if replan is not None and replan.teams_tracked:  # kept as they were (dispatch.replan)
        assignment = replan.kept_teams + assignment

    def assemble(
        stages: list[StageRun],
        unserved: list[Unserved],
        routes: tuple[VehicleRoute, ...],
        report: bool,
    ) -> Plan:
        """Everything after the solvers (orders, outcomes, the audit snapshot): the first plan
        of a re-plan (``report`` False: no progress), then the final one."""
        lines_all = kept_lines + lines
        cancelled = any(s.status == Status.CANCELLED for s in stages)
        if cancelled or failures:
            why = "；".join(failures) if failures else "计算已取消"
            reason = Reason.CANCELLED if cancelled else Reason.FAILED
            unserved = _mark_missing(scenario, unserved, assignment, routes, why, reason)

        p = prog.stage("orders") if report else no_progress
        places = tuple(geo.places.values())
        orders = build_orders(
            number,
            scenario=scenario,
            places=places,
            routes=routes,
            assignment=assignment,
            paths=geo.path,
        )
        if replan is not None:
            orders = kept_team_orders(orders, replan)
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
            notes=tuple(_fleet_notes(scenario))
            + tuple(geo.notes)
            + (carried.notes if carried is not None else ()),
            previous_plan=previous.number if previous is not None else "",
        )
        overall = Status.CANCELLED if cancelled else _overall(stages)
        overall = _honest_overall(overall, scenario, unserved, routes, assignment, moves)
        plan = Plan(
            number=number,
            created_at=created,
            status=PlanStatus.DRAFT,
            overall=overall,
            inputs=inputs,
            stages=tuple(stages),
            places=places,
            allocation=lines_all,
            assignment=assignment,
            evacuation=moves,
            routes=routes,
            unserved=tuple(unserved),
            incidents=incident_outcomes(scenario, lines_all, routes, assignment, moves),
            safety_releases=safety_stock_releases(scenario, lines_all),
            orders=orders,
            materials=_material_refs(scenario, lines_all, unserved),
        )
        if replan is not None:
            changes = order_changes(replan, plan)
            plan = dataclasses.replace(
                plan, inputs=dataclasses.replace(plan.inputs, changes=changes)
            )
        return plan

    def first_plan(rs: RoutingStage) -> None:
        """The re-plan's first complete plan (warm start), handed to ``on_first_plan``."""
        st = [*stages, _stage("routing", rs.result.info, "首个完整方案（由上一方案热启动）")]
        routes = merged_routes(kept_routes, rs.routes)
        plan = assemble(st, [*unserved, *rs.result.unserved], routes, False)
        first_s.append(time.perf_counter() - t0)
        if on_first_plan is not None:
            on_first_plan(_with_first(plan, first_s[0]))

    if lines or stop():
        warm = None
        if previous is not None:
            keep = replan.kept_vehicles if replan is not None else frozenset()
            warm = [r for r in previous.routes if r.vehicle_id not in keep]
            if replan is not None and track_fleet and replan.issued:
                warm = list(replan.released)  # the trips not begun (new time base)
        starts = replan.starts if replan is not None else None
        rt = run(
            "routing",
            lambda pg: _routing(
                solve_sc, geo, options, budget, lines, stop, pg, warm, first_plan, starts
            ),
        )
        if rt is not None:
            routes = rt.routes
    else:
        stages.append(StageRun(_STAGE_ZH["routing"], Status.OPTIMAL, message="无配送任务"))
    plan = assemble(stages, unserved, merged_routes(kept_routes, routes), True)
    return _with_first(plan, first_s[0] if first_s else time.perf_counter() - t0)


def _with_first(plan: Plan, seconds: float) -> Plan:
    """``plan`` with ``PlanInputs.first_plan_s`` set."""
    return dataclasses.replace(
        plan, inputs=dataclasses.replace(plan.inputs, first_plan_s=round(float(seconds), 3))
    )


def _material_refs(
    scenario: Scenario, lines: Sequence[AllocationLine], unserved: Sequence[Unserved]
) -> tuple[MaterialRef, ...]:
    codes = {c for i in scenario.open_incidents() for c in i.needs}
    codes |= {ln.material for ln in lines} | {u.what for u in unserved}
    return tuple(
        MaterialRef(m.code, m.name_zh, m.unit, m.unit_weight_kg, m.unit_volume_m3, m.name_en)
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


__all__ = [
    "DEFAULT_SHELTER_STANDARD",
    "AllocationStage",
    "AssignmentStage",
    "DispatchOptions",
    "EvacuationStage",
    "RoutingStage",
    "plan_dispatch",
]
