"""Re-planning from a previous plan: which of its orders still hold, and what changed.

A re-plan (after a road closure, a new incident, a team change) is computed with the previous
plan passed explicitly (:func:`dispatch.pipeline.plan_dispatch` ``previous=``). This module is
the plain-data part of it:

- :func:`check_previous` looks at every order of the previous plan against the new scenario and
  the new travel times: an order is *blocked* when its unit is gone, a place it serves is gone
  or closed, or one of its legs no longer has the same road path (no path at all, or a longer /
  slower one: the route crosses a new closure or slow-down). The legs are compared with the
  previous orders' own legs (road metres and seconds), so a closure elsewhere blocks nothing.
- When the previous plan was issued (已下达, ``PlanStatus.ISSUED``), its units keep their orders
  unless blocked: their routes are kept as they were (times shifted to the new plan's time),
  their loads are taken off the stockpiles' inventory and the sites' needs before the new
  allocation (:func:`solve_scenario`, :func:`reduce_sites`), their vehicles are not re-routed,
  and their teams are pinned to their incidents (:func:`pins`).
- :func:`warm_start` turns the previous routes into the routing solver's warm start
  (:data:`dispatch.routing.solve.WarmStart`), so a complete plan exists almost at once.
- :func:`order_changes` lists, per vehicle and team, whether its order is unchanged, changed,
  new or cancelled, with a short reason (``PlanInputs.changes``).

Vehicle positions (``track=True``, drills): the issued plan is read at the re-plan's time with
:func:`dispatch.fleet_state.fleet_state`. Trips done stay in the plan (the goods stay
delivered), a vehicle under way completes its current trip and is then free at its depot
(:attr:`Replan.starts`: the routing model's ``ready_s``, trips and shift left), trips not begun
are planned again (warm-started from the old ones, :attr:`Replan.released`). Only the legs still
to drive are checked against new closures: a vehicle whose remaining legs are cut keeps the
stops it reached and turns back the way it came (the routing model starts every trip at a
depot, so it cannot be re-routed from the road; free at its depot after as long again as it
has driven on the trip, the metres driven counted twice), with a reason saying so; the goods
still on board come back with it and are not offered in this re-plan. Without ``track`` a kept
issued route is assumed to be driven as ordered and its vehicle stays busy for the whole
re-plan.

Teams with ``track`` (issue 14 §2 "teams already on site stay unless released";
:func:`dispatch.fleet_state.team_state`): a team of the issued plan on site at the re-plan's
time stays there — its dispatch is kept as it was (arrival time in the new plan's time base,
so before it), whatever closes behind it; a team en route keeps its dispatch and its ETA
unless a full closure (``speed_factor`` 0) now cuts its road still ahead
(:func:`closure_ahead`: the path from its position on, against the closure's geometry as the
road network applies it), then it is re-assigned with the reason saying so (the assignment
counts its travel from its base: where it is on the road is not in the model). A slow-down
ahead keeps the ETA (optimistic by the delay). A released team (休整, deleted) or one whose
incident is gone loses its dispatch as before. Kept teams are taken out of the assignment
(their incident's skills less what they bring, :func:`solve_scenario`) and added back to the
plan (:attr:`Replan.teams_tracked`) instead of being pinned and given a new ETA.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.fleet_state import VehicleState, fleet_state, team_state, trip_metres
from dispatch.plan import Plan
from dispatch.records import (
    AllocationLine,
    ChangeKind,
    DispatchOrder,
    OrderChange,
    OrderKind,
    PlanStatus,
    RouteStop,
    TeamDispatch,
    Trip,
    VehicleRoute,
)
from dispatch.travel import TravelTimes
from gis.model import RoadClosure, Scenario, TeamStatus

#: A leg whose road metres differ by more than this (absolute, and relative) is re-routed.
LEG_TOLERANCE_M = 5.0
LEG_TOLERANCE_REL = 0.002
#: A leg slower by more than this many seconds (and relative share) crosses a slow-down.
LEG_TOLERANCE_S = 2.0

KEPT_ISSUED = "已下达，保持原指令"
#: (``track``) a kept team on site / en route at the re-plan's time
TEAM_ON_SITE = "已下达，队伍已到达现场，继续处置"
TEAM_EN_ROUTE = "已下达，队伍在途，保持原到达时间"


@dataclass(frozen=True)
class Replan:
    """What a re-plan keeps of ``previous``.

    ``blocked``: unit id (vehicle or team) → why its previous order cannot be carried out as it
    was. ``kept_routes`` / ``kept_teams``: orders of an issued plan that stay (routes with times
    in the new plan's time base). ``offset_s``: previous plan time − new plan time (seconds).
    """

    previous: Plan
    blocked: Mapping[str, str]
    kept_routes: tuple[VehicleRoute, ...] = ()
    kept_teams: tuple[TeamDispatch, ...] = ()
    offset_s: float = 0.0
    #: (``track``) vehicle id → (ready_s, trips left, must be back by s) in the new plan's
    #: time, for kept vehicles that can drive new trips after their kept ones
    starts: Mapping[str, tuple[int, int, int]] = dataclasses.field(default_factory=dict)
    #: (``track``) the trips not begun at the re-plan's time (new time base): the warm start
    released: tuple[VehicleRoute, ...] = ()
    #: (``track``) stockpile id → material → quantity on board of vehicles turned back (not
    #: offered in this re-plan)
    aboard: Mapping[str, Mapping[str, float]] = dataclasses.field(default_factory=dict)
    #: (``track``) ``kept_teams`` stay as they were (ETA in the new time base): they are taken
    #: out of the assignment and added to the plan as they are, not pinned
    teams_tracked: bool = False

    @property
    def issued(self) -> bool:
        return self.previous.status == PlanStatus.ISSUED

    @property
    def kept_vehicles(self) -> frozenset[str]:
        return frozenset(r.vehicle_id for r in self.kept_routes)

    @property
    def busy_vehicles(self) -> frozenset[str]:
        """Kept vehicles that get no new trip in this re-plan."""
        return self.kept_vehicles - frozenset(self.starts)

    def kept_loads(self) -> dict[tuple[str, str], dict[str, float]]:
        """(stockpile id, site id) → material → quantity the kept routes deliver."""
        out: dict[tuple[str, str], dict[str, float]] = {}
        for r in self.kept_routes:
            for t in r.trips:
                for s in t.stops:
                    d = out.setdefault((t.depot_id, s.site_id), {})
                    for k, q in s.loads.items():
                        d[k] = d.get(k, 0.0) + float(q)
        return out

    def kept_lines(self) -> tuple[AllocationLine, ...]:
        """The allocation lines behind the kept routes (travel time from the previous plan)."""
        travel = {(ln.stockpile_id, ln.site_id): ln.travel_s for ln in self.previous.allocation}
        return tuple(
            AllocationLine(site, code, sp, q, float(travel.get((sp, site), 0.0)))
            for (sp, site), loads in sorted(self.kept_loads().items())
            for code, q in sorted(loads.items())
            if q > 0
        )


def _leg_pairs(previous: Plan) -> dict[str, list[tuple[str, str, float, float]]]:
    """Unit id → its orders' road legs (from, to, metres, unscaled seconds)."""
    out: dict[str, list[tuple[str, str, float, float]]] = {}
    for o in previous.orders:
        legs = out.setdefault(o.unit_id, [])
        for leg in o.legs:
            if leg.on_roads and leg.from_id != leg.to_id:
                legs.append((leg.from_id, leg.to_id, float(leg.metres), float(leg.seconds)))
    return out


def _speed_factors(scenario: Scenario) -> dict[str, float]:
    out = {v.id: float(v.speed_factor) for sp in scenario.stockpiles for v in sp.vehicles}
    out.update({t.id: 1.0 for t in scenario.teams})
    return out


def _check_legs(
    previous: Plan,
    geo: TravelTimes,
    legs: Mapping[str, Sequence[tuple[str, str, float, float]]],
    speed: Mapping[str, float],
    blocked: dict[str, str],
) -> None:
    """Add to ``blocked`` every unit one of whose ``legs`` no longer has the same road path
    (one matrix over every leg end still on the map)."""
    ends = sorted(
        {x for unit, ls in legs.items() if unit not in blocked for a, b, *_ in ls for x in (a, b)}
        & set(geo.node)
    )
    if ends and geo.engine is not None:
        sec, met, reach = geo.matrix(ends, ends)
        at = {pid: k for k, pid in enumerate(ends)}
        for unit, ls in legs.items():
            if unit in blocked:
                continue
            for a, b, metres, seconds in ls:
                if a not in at or b not in at:
                    blocked[unit] = f"{previous.place_name(a)}→{previous.place_name(b)} 无法定位"
                    break
                i, j = at[a], at[b]
                name = f"{previous.place_name(a)}→{previous.place_name(b)}"
                if not reach[i, j]:
                    blocked[unit] = f"原路线 {name} 的道路已中断，无路可通"
                    break
                unscaled = seconds * speed.get(unit, 1.0)
                longer = float(met[i, j]) - metres > max(
                    LEG_TOLERANCE_M, LEG_TOLERANCE_REL * metres
                )
                shorter = metres - float(met[i, j]) > max(
                    LEG_TOLERANCE_M, LEG_TOLERANCE_REL * metres
                )
                slower = float(sec[i, j]) - unscaled > max(LEG_TOLERANCE_S, 0.01 * unscaled)
                if longer or slower or shorter:
                    blocked[unit] = f"原路线 {name} 经过新封闭或限行道路"
                    break


def check_previous(
    previous: Plan,
    scenario: Scenario,
    geo: TravelTimes,
    created: datetime,
    *,
    track: bool = False,
    max_trips: int = 6,
    max_route_s: int = 12 * 3600,
    loading_s: int = 900,
) -> Replan:
    """Which orders of ``previous`` are blocked now, and (issued plan) which are kept.

    ``track``: vehicles continue from where they are at ``created`` (see the module doc);
    ``max_trips``, ``max_route_s``, ``loading_s``: the new plan's options, for what a vehicle
    has left after its kept trips."""
    places = geo.places
    vehicles = {v.id: sp.id for sp in scenario.stockpiles for v in sp.vehicles}
    teams = {t.id: t for t in scenario.teams}
    open_ids = {i.id for i in scenario.open_incidents()} | {s.id for s in scenario.shelters}
    speed = _speed_factors(scenario)
    blocked: dict[str, str] = {}
    tracked = track and previous.status == PlanStatus.ISSUED
    states = fleet_state(previous, created) if tracked else {}

    def gone(unit: str, site_ids: Sequence[str]) -> str:
        for sid in site_ids:
            if sid not in open_ids or sid not in places:
                return f"{previous.place_name(sid)} 已结束或已删除，原任务取消"
        return ""

    for r in previous.routes:
        if tracked:  # only what is still to come on the current trip matters
            st = states.get(r.vehicle_id)
            if st is None or not st.under_way:
                continue
            sites = [p.site_id for p in st.pending if p.trip == st.current_trip]
        else:
            sites = [s.site_id for t in r.trips for s in t.stops]
        # (tracked: a vehicle under way whose stockpile is gone still completes its trip; it
        # gets no new one since the scenario no longer has it)
        moved = r.vehicle_id not in vehicles or vehicles[r.vehicle_id] != r.depot_id
        if moved and not tracked:
            blocked[r.vehicle_id] = "车辆已不在原储备库，原指令作废"
            continue
        why = gone(r.vehicle_id, sites)
        if why:
            blocked[r.vehicle_id] = why
    for a in previous.assignment:
        team = teams.get(a.team_id)
        if team is None or team.status == TeamStatus.RESTING:
            blocked[a.team_id] = "队伍已不可用（删除或休整），原派遣作废"
            continue
        why = gone(a.team_id, [a.incident_id])
        if why:
            blocked[a.team_id] = why
    legs = _leg_pairs(previous)
    if tracked:  # vehicles: the legs still to drive; teams: the road ahead of them
        for vid in {r.vehicle_id for r in previous.routes}:
            st = states.get(vid)
            todo = set(st.remaining_legs()) if st is not None else set()
            legs[vid] = [x for x in legs.get(vid, []) if (x[0], x[1]) in todo]
        for tid, ts in team_state(previous, created).items():
            legs.pop(tid, None)
            cut = None if ts.on_site or tid in blocked else closure_ahead(ts.ahead, scenario)
            if cut is not None:
                blocked[tid] = TEAM_CUT.format(name=cut.reason or cut.id)
    _check_legs(previous, geo, legs, speed, blocked)
    offset = (previous.created_at - created).total_seconds()
    if tracked:
        return _tracked(previous, states, blocked, offset, max_trips, max_route_s, loading_s)
    kept_routes: tuple[VehicleRoute, ...] = ()
    kept_teams: tuple[TeamDispatch, ...] = ()
    if previous.status == PlanStatus.ISSUED:
        kept_routes = tuple(
            _shifted(r, offset)
            for r in previous.routes
            if r.vehicle_id not in blocked and any(t.stops for t in r.trips)
        )
        kept_teams = tuple(a for a in previous.assignment if a.team_id not in blocked)
    return Replan(previous, blocked, kept_routes, kept_teams, offset)


TURNED_BACK = (
    "车辆在途，剩余路线受阻（{why}）：路径模型只能从储备库出发，无法从当前位置改道，"
    "该车按原路返回储备库（约 {back:.0f} 分钟）后再参与调度；已送达的物资保留，"
    "车上未送物资随车返回"
)


def _tracked(
    previous: Plan,
    states: Mapping[str, VehicleState],
    blocked: dict[str, str],
    offset: float,
    max_trips: int,
    max_route_s: int,
    loading_s: int,
) -> Replan:
    """The kept, released and turned-back parts of an issued plan's routes (``track``)."""
    kept: list[VehicleRoute] = []
    released: list[VehicleRoute] = []
    starts: dict[str, tuple[int, int, int]] = {}
    aboard: dict[str, dict[str, float]] = {}
    for r in previous.routes:
        st = states.get(r.vehicle_id)
        if st is None:
            continue
        trips = list(r.trips)
        metres = trip_metres(previous, r)
        t_now = st.t_s
        keep = [(t, metres[k]) for k, t in enumerate(trips) if t.end_s <= t_now]
        later = [t for t in trips if t.start_s >= t_now and t.stops]
        # the route's own distance less the trips not kept (a done trip keeps the metres it
        # was counted with in the plans before)
        dropped_m = sum(m for t, m in zip(trips, metres, strict=True) if t.start_s >= t_now)
        if st.current_trip is not None:
            cur = trips[st.current_trip]
            if r.vehicle_id in blocked:  # cut at the last stop reached, back the way it came
                back = t_now + (t_now - cur.start_s)
                blocked[r.vehicle_id] = TURNED_BACK.format(
                    why=blocked[r.vehicle_id], back=(back - t_now) / 60.0
                )
                reached = tuple(s for s in cur.stops if s.arrival_s <= t_now)
                driven = st.driven_m - sum(metres[: st.current_trip])
                keep.append((Trip(cur.depot_id, cur.start_s, back, reached), 2.0 * driven))
                dropped_m += metres[st.current_trip] - 2.0 * driven
                got = aboard.setdefault(r.depot_id, {})
                for code, q in st.aboard.items():
                    got[code] = got.get(code, 0.0) + float(q)
            else:
                keep.append((cur, metres[st.current_trip]))
        if keep:
            end = max(t.end_s for t, _ in keep)
            kept.append(
                _shifted(
                    VehicleRoute(
                        r.vehicle_id,
                        r.depot_id,
                        tuple(t for t, _ in keep),
                        duration_s=max(0.0, end + offset),
                        distance_m=max(0.0, float(r.distance_m) - dropped_m),
                    ),
                    offset,
                )
            )
        if later:
            released.append(_shifted(dataclasses.replace(r, trips=tuple(later)), offset))
        if not keep:
            continue
        ready = max(0, math.ceil(max(t.end_s for t, _ in keep) + offset))
        shift_end = math.floor(min(t.start_s for t, _ in keep) - loading_s + offset + max_route_s)
        left = int(max_trips) - len(keep)
        if left > 0 and shift_end > ready:
            starts[r.vehicle_id] = (int(ready), left, int(shift_end))
    kept_teams = tuple(
        dataclasses.replace(a, eta_s=float(a.eta_s) + offset)
        for a in previous.assignment
        if a.team_id not in blocked
    )
    return Replan(
        previous,
        blocked,
        tuple(kept),
        kept_teams,
        offset,
        starts=starts,
        released=tuple(released),
        aboard=aboard,
        teams_tracked=True,
    )


TEAM_CUT = (
    "队伍在途，前方道路已中断（{name}）：原派遣作废，重新派遣"
    "（到达时间按从驻地出发计算，队伍在途位置不入模型）"
)


def closure_ahead(ahead: Sequence[tuple[float, float]], scenario: Scenario) -> RoadClosure | None:
    """The first full closure (``speed_factor`` 0) of ``scenario`` on the road ``ahead``
    (lon/lat path), as the road network applies it (a point: within its ``radius_m``; a line
    or polygon: crossing); None when the road ahead is open. Distances in metres in an
    azimuthal equidistant projection centred on the path's start (pyproj)."""
    full = [c for c in scenario.closures if float(c.speed_factor) <= 0.0]
    if len(ahead) < 2 or not full:
        return None
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import LineString

    lon0, lat0 = ahead[0]
    tr = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m", always_xy=True
    )

    def xy(g: Any) -> Any:
        return shapely.transform(g, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))

    path = xy(LineString(ahead))
    for c in full:
        g = xy(c.geometry)
        if g.geom_type == "Point":
            hit = path.distance(g) <= float(c.radius_m)
        else:
            hit = path.intersects(g)
        if hit:
            return c
    return None


def _shifted(route: VehicleRoute, offset: float) -> VehicleRoute:
    """``route`` with every time moved by ``offset`` seconds (into the new plan's time)."""
    if offset == 0:
        return route
    return dataclasses.replace(
        route,
        trips=tuple(
            Trip(
                t.depot_id,
                t.start_s + offset,
                t.end_s + offset,
                tuple(
                    RouteStop(s.site_id, s.arrival_s + offset, s.departure_s + offset, s.loads)
                    for s in t.stops
                ),
            )
            for t in route.trips
        ),
    )


def solve_scenario(scenario: Scenario, replan: Replan) -> Scenario:
    """The scenario the new plan's solvers see: the kept routes' vehicles taken out (but those
    free again after their kept trips, :attr:`Replan.starts`), their loads taken off the
    stockpiles' inventory and the incidents' needs, the loads on turned-back vehicles off the
    inventory, tracked kept teams out with their skills (unchanged when nothing is kept)."""
    scenario = _without_kept_teams(scenario, replan)
    if not replan.kept_routes and not replan.aboard:
        return scenario
    loads = replan.kept_loads()
    taken: dict[str, dict[str, float]] = {sp: dict(m) for sp, m in replan.aboard.items()}
    given: dict[str, dict[str, float]] = {}
    for (sp, site), mats in loads.items():
        for code, q in mats.items():
            taken.setdefault(sp, {})[code] = taken.get(sp, {}).get(code, 0.0) + q
            given.setdefault(site, {})[code] = given.get(site, {}).get(code, 0.0) + q
    kept = replan.busy_vehicles
    stockpiles = tuple(
        dataclasses.replace(
            sp,
            inventory={
                k: max(0.0, float(q) - taken.get(sp.id, {}).get(k, 0.0))
                for k, q in sp.inventory.items()
            },
            vehicles=tuple(v for v in sp.vehicles if v.id not in kept),
        )
        for sp in scenario.stockpiles
    )
    incidents = tuple(
        dataclasses.replace(
            i,
            needs={
                k: q - given[i.id].get(k, 0.0)
                for k, q in i.needs.items()
                if q - given[i.id].get(k, 0.0) > 1e-9
            },
        )
        if i.id in given
        else i
        for i in scenario.incidents
    )
    return dataclasses.replace(scenario, stockpiles=stockpiles, incidents=incidents)


def kept_team_orders(orders: Sequence[DispatchOrder], replan: Replan) -> tuple[DispatchOrder, ...]:
    """(``teams_tracked``) each kept team's 派遣令 as the previous plan sent it: its road (not
    the road from its base as it is now: it may have passed a closure since), departure and
    arrival in the new plan's time base (before it for a team that left earlier)."""
    if not replan.teams_tracked or not replan.kept_teams:
        return tuple(orders)
    kept = {a.team_id for a in replan.kept_teams}
    old = {
        o.unit_id: o
        for o in replan.previous.orders
        if o.kind == OrderKind.DEPLOY and o.unit_id in kept
    }
    off = replan.offset_s
    out = []
    for o in orders:
        prev = old.get(o.unit_id) if o.kind == OrderKind.DEPLOY else None
        if prev is not None:
            o = dataclasses.replace(
                o,
                stops=tuple(dataclasses.replace(st, eta_s=st.eta_s + off) for st in prev.stops),
                legs=prev.legs,
                depart_s=prev.depart_s + off,
                eta_s=prev.eta_s + off,
                end_s=prev.end_s + off,
                total_seconds=prev.total_seconds,
                total_metres=prev.total_metres,
            )
        out.append(o)
    return tuple(out)


def _without_kept_teams(scenario: Scenario, replan: Replan) -> Scenario:
    """(``teams_tracked``) the kept teams out of the scenario the assignment sees, their
    incidents' required skills less what they bring."""
    if not replan.teams_tracked or not replan.kept_teams:
        return scenario
    kept = {a.team_id for a in replan.kept_teams}
    brought: dict[str, dict[str, int]] = {}
    for a in replan.kept_teams:
        got = brought.setdefault(a.incident_id, {})
        for skill, n in a.contributes.items():
            got[skill] = got.get(skill, 0) + int(n)
    incidents = tuple(
        dataclasses.replace(
            i,
            required_skills={
                k: n - brought[i.id].get(k, 0)
                for k, n in i.required_skills.items()
                if n - brought[i.id].get(k, 0) > 0
            },
        )
        if i.id in brought
        else i
        for i in scenario.incidents
    )
    teams = tuple(t for t in scenario.teams if t.id not in kept)
    return dataclasses.replace(scenario, teams=teams, incidents=incidents)


def merged_routes(
    kept: Sequence[VehicleRoute], new: Sequence[VehicleRoute]
) -> tuple[VehicleRoute, ...]:
    """``kept`` then ``new`` routes, a vehicle in both as one route: its kept trips, then its
    new ones (which start at its ready time, after the kept ones)."""
    by_vehicle = {r.vehicle_id: r for r in kept}
    extra: list[VehicleRoute] = []
    for r in new:
        old = by_vehicle.get(r.vehicle_id)
        if old is None:
            extra.append(r)
            continue
        by_vehicle[r.vehicle_id] = dataclasses.replace(
            old,
            trips=old.trips + r.trips,
            duration_s=max(float(old.duration_s), float(r.duration_s)),
            distance_m=float(old.distance_m) + float(r.distance_m),
        )
    return tuple(by_vehicle.values()) + tuple(extra)


def reduce_sites(sites: Sequence[Any], replan: Replan) -> tuple[Any, ...]:
    """Shelter supply sites (:class:`dispatch.problems.AllocationSite`) less what kept routes
    bring them."""
    given: dict[str, dict[str, float]] = {}
    for (_, site), mats in replan.kept_loads().items():
        for code, q in mats.items():
            given.setdefault(site, {})[code] = given.get(site, {}).get(code, 0.0) + q
    out = []
    for s in sites:
        got = given.get(s.id)
        if got:
            needs = {
                k: q - got.get(k, 0.0) for k, q in s.needs.items() if q - got.get(k, 0.0) > 1e-9
            }
            if not needs:
                continue
            s = dataclasses.replace(s, needs=needs)
        out.append(s)
    return tuple(out)


def pins(replan: Replan, existing: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The operator's pins plus the kept teams of an issued plan (a team keeps one pin)."""
    kept = {a.team_id: a.incident_id for a in replan.kept_teams}
    out = [p for p in existing if p[0] not in kept]
    out += sorted(kept.items())
    return tuple(out)


def warm_start(
    routes: Sequence[VehicleRoute],
    loads: Mapping[tuple[str, str], Mapping[str, float]],
    delivery_id: Any,
) -> dict[str, tuple[tuple[tuple[str, float], ...], ...]]:
    """The routing warm start from ``routes``: per vehicle, per trip, (delivery id, share of the
    delivery's quantity unloaded at the stop). ``loads``: (stockpile, site) → the new plan's
    delivery loads; ``delivery_id(stockpile, site)`` names the delivery. Stops of deliveries the
    new plan does not make are left out."""
    out: dict[str, tuple[tuple[tuple[str, float], ...], ...]] = {}
    for r in routes:
        trips = []
        for t in r.trips:
            stops = []
            for s in t.stops:
                total = loads.get((t.depot_id, s.site_id))
                if not total:
                    continue
                want = sum(float(v) for v in total.values())
                got = sum(float(s.loads.get(k, 0.0)) for k in total)
                share = min(1.0, got / want) if want > 0 else 1.0
                if share > 0:
                    stops.append((delivery_id(t.depot_id, s.site_id), share))
            if stops:
                trips.append(tuple(stops))
        if trips:
            out[r.vehicle_id] = tuple(trips)
    return out


# --------------------------------------------------------------------------------------------
# What changed
# --------------------------------------------------------------------------------------------


def _route_key(r: VehicleRoute) -> tuple[Any, ...]:
    return tuple(
        (
            t.depot_id,
            tuple(
                (s.site_id, tuple(sorted((k, round(float(q), 3)) for k, q in s.loads.items())))
                for s in t.stops
            ),
        )
        for t in r.trips
        if t.stops
    )


def _route_diff(old: VehicleRoute, new: VehicleRoute, name: Any) -> str:
    before = [s.site_id for t in old.trips for s in t.stops]
    after = [s.site_id for t in new.trips for s in t.stops]
    added = [x for x in dict.fromkeys(after) if x not in before]
    dropped = [x for x in dict.fromkeys(before) if x not in after]
    if _route_key(old) == _route_key(new):
        return ""
    parts = []
    if added:
        parts.append("新增停靠 " + "、".join(name(x) for x in added))
    if dropped:
        parts.append("取消停靠 " + "、".join(name(x) for x in dropped))
    return "；".join(parts) or "装载量或停靠顺序调整"


def order_changes(replan: Replan, plan: Plan) -> tuple[OrderChange, ...]:
    """Per vehicle and team of either plan: unchanged / changed / new / cancelled and why."""
    prev = replan.previous
    old_no = {o.unit_id: o.number for o in prev.orders}
    new_no = {o.unit_id: o.number for o in plan.orders}
    kept = replan.kept_vehicles | {a.team_id for a in replan.kept_teams}
    out: list[OrderChange] = []
    transfer, deploy = OrderKind.TRANSFER.value, OrderKind.DEPLOY.value

    names = {o.unit_id: o.unit_name for o in (*prev.orders, *plan.orders)}

    def add(unit: str, kind: str, change: ChangeKind, reason: str) -> None:
        out.append(
            OrderChange(
                unit,
                kind,
                change,
                reason,
                new_no.get(unit, ""),
                old_no.get(unit, ""),
                names.get(unit, unit),
            )
        )

    old_routes = {r.vehicle_id: r for r in prev.routes if any(t.stops for t in r.trips)}
    new_routes = {r.vehicle_id: r for r in plan.routes if any(t.stops for t in r.trips)}
    for vid in sorted(old_routes.keys() | new_routes.keys()):
        old, new = old_routes.get(vid), new_routes.get(vid)
        why = replan.blocked.get(vid, "")
        if old is None:
            add(vid, transfer, ChangeKind.NEW, "新增调拨任务")
        elif new is None:
            add(vid, transfer, ChangeKind.CANCELLED, why or "任务已由其他车辆承担或不再需要")
        elif _route_key(old) == _route_key(new) and not why:
            add(vid, transfer, ChangeKind.UNCHANGED, KEPT_ISSUED if vid in kept else "")
        else:
            diff = _route_diff(old, new, plan.place_name)
            reason = "；".join(x for x in (why, diff) if x)
            if why and not diff:
                reason = f"{why}，已重新规划路线"
            add(vid, transfer, ChangeKind.CHANGED, reason)
    old_teams = {a.team_id: a for a in prev.assignment}
    new_teams = {a.team_id: a for a in plan.assignment}
    for tid in sorted(old_teams.keys() | new_teams.keys()):
        olda, newa = old_teams.get(tid), new_teams.get(tid)
        why = replan.blocked.get(tid, "")
        if olda is None:
            add(tid, deploy, ChangeKind.NEW, "新增派遣")
        elif newa is None:
            add(tid, deploy, ChangeKind.CANCELLED, why or "不再需要该队伍或已改派其他队伍")
        elif olda.incident_id != newa.incident_id:
            target = f"改派至 {plan.place_name(newa.incident_id)}"
            add(tid, deploy, ChangeKind.CHANGED, "；".join(x for x in (why, target) if x))
        elif why:
            add(tid, deploy, ChangeKind.CHANGED, f"{why}，已重新规划路线")
        elif tid in kept and replan.teams_tracked:  # where the kept team is now
            where = TEAM_ON_SITE if newa.eta_s <= 0 else TEAM_EN_ROUTE
            add(tid, deploy, ChangeKind.UNCHANGED, where)
        else:
            add(tid, deploy, ChangeKind.UNCHANGED, KEPT_ISSUED if tid in kept else "")
    return tuple(out)


def closure_on_route(plan: Plan, radius_m: float = 30.0, closure_id: str = "CL-REPLAN") -> Any:
    """A :class:`gis.model.RoadClosure` on a road ``plan`` uses: the middle vertex of the longest
    road leg of its transfer orders (for drills, tests and ``benchmarks/bench_replan.py``);
    None when no order drives on roads."""
    from shapely.geometry import Point

    from gis.model import RoadClosure

    legs = [
        (leg.metres, o.number, leg)
        for o in plan.transfer_orders
        for leg in o.legs
        if leg.on_roads and len(leg.coords) > 2
    ]
    if not legs:
        return None
    leg = max(legs, key=lambda x: (x[0], x[1]))[2]
    lon, lat = leg.coords[len(leg.coords) // 2]
    return RoadClosure(closure_id, Point(lon, lat), "演练：封闭方案所用道路", radius_m)


def changes_text(plan: Plan, max_lines: int = 40) -> str:
    """A re-plan's order changes as overview lines ("" for a plan made from scratch)."""
    prev = plan.inputs.previous_plan
    if not prev:
        return ""
    ch = plan.inputs.changes
    n = {k: sum(1 for c in ch if c.change == k) for k in ChangeKind}
    head = (
        f"相对方案 {prev}：变更 {n[ChangeKind.CHANGED]} 份，新增 {n[ChangeKind.NEW]} 份，"
        f"取消 {n[ChangeKind.CANCELLED]} 份，未变 {n[ChangeKind.UNCHANGED]} 份"
    )
    if plan.inputs.first_plan_s is not None:
        head += f"；首个完整方案用时 {plan.inputs.first_plan_s:.1f} 秒"
    shown = [c for c in ch if c.change != ChangeKind.UNCHANGED or c.reason]
    lines = [head]
    for c in shown[:max_lines]:
        unit = c.unit_name or c.unit_id
        lines.append(
            f"  [{c.change.label_zh}] {c.kind} {unit}" + (f"：{c.reason}" if c.reason else "")
        )
    if len(shown) > max_lines:
        lines.append(f"  …… 另有 {len(shown) - max_lines} 项")
    return "\n\n" + "\n".join(lines) + "\n"


__all__ = [
    "TURNED_BACK",
    "KEPT_ISSUED",
    "TEAM_CUT",
    "TEAM_EN_ROUTE",
    "TEAM_ON_SITE",
    "changes_text",
    "closure_on_route",
    "Replan",
    "check_previous",
    "closure_ahead",
    "kept_team_orders",
    "merged_routes",
    "order_changes",
    "pins",
    "reduce_sites",
    "solve_scenario",
    "warm_start",
]
