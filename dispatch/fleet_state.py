"""Where each vehicle of an issued plan is at a given time, and what it has done (plain data).

:func:`fleet_state` reads a plan's routes (trip and stop times, seconds after the plan's
time) and its transfer orders' legs (road paths with lon/lat coordinates) and tells, per
vehicle, at time ``at``:

- where it is: at its depot (idle, loading, or back), at a delivery site (unloading), or on a
  leg between two places with the fraction of the leg's time driven; the position is
  interpolated along the leg's path (:meth:`shapely.geometry.LineString.interpolate`, by the
  time share: a leg's speed is taken as even along it);
- which stops are done (arrived before ``at``: the goods stay delivered) and which are pending,
  what it still carries (loaded at the depot, not unloaded yet), the metres driven so far;
- its current trip (left the depot, not back yet) and when and where it is free again: back at
  its depot at the end of the current trip (:attr:`VehicleState.free_s`, seconds after ``at``;
  0 when it is idle).

The rule a re-plan applies with it (:mod:`dispatch.replan`, drills): trips done stay done, a
vehicle under way completes its current trip (the routing model starts every trip at a depot,
so it cannot be re-routed from the middle of a road) and is then free at its depot; trips not
begun yet are planned again. A current trip whose remaining legs cross a new closure is cut at
the last stop reached and the vehicle turns back (see :func:`dispatch.replan.check_previous`).

Times: ``t = (at − plan.created_at)`` in seconds, compared with the plan's route times. Loading
happens before a trip's ``start_s`` (the vehicle leaves then), so a vehicle still loading counts
as at its depot with the trip not begun.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatch.plan import Plan
from dispatch.records import Leg, OrderKind, Trip, VehicleRoute


class Where(StrEnum):
    """Where a vehicle is at the time asked."""

    DEPOT = "depot"  # at its depot: before its first trip, between trips or done
    SITE = "site"  # at a delivery site (unloading)
    LEG = "leg"  # driving between two places

    @property
    def label_zh(self) -> str:
        return {"depot": "在储备库", "site": "在卸货点", "leg": "在途"}[self.value]


@dataclass(frozen=True)
class StopRef:
    """A delivery stop of a route: trip index, stop index in the trip, site, loads, arrival."""

    trip: int
    stop: int
    site_id: str
    arrival_s: float
    loads: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleState:
    """One vehicle of the plan at time ``t_s`` (seconds after the plan's time).

    ``place_id``: the place it is at (``where`` DEPOT or SITE), else the leg ``from_id`` →
    ``to_id`` with ``fraction`` of its time driven. ``lon``/``lat``: its position (None when the
    places and the leg have no coordinates). ``current_trip``: index of the trip it is on (left
    the depot, not back), None when at the depot. ``free_s``: seconds after ``t_s`` it is back
    at ``free_at`` (its depot) when the current trip is completed (0 when at the depot).
    """

    vehicle_id: str
    depot_id: str
    t_s: float
    where: Where
    place_id: str | None
    from_id: str | None
    to_id: str | None
    fraction: float
    lon: float | None
    lat: float | None
    current_trip: int | None
    trips_done: int  # trips completed (back at the depot) before t
    delivered: tuple[StopRef, ...]
    pending: tuple[StopRef, ...]
    aboard: Mapping[str, float]  # material → quantity loaded and not unloaded yet
    driven_m: float
    free_s: float
    free_at: str

    @property
    def under_way(self) -> bool:
        return self.current_trip is not None

    def remaining_legs(self) -> tuple[tuple[str, str], ...]:
        """The legs of the current trip still to drive, the one under way included."""
        if self.current_trip is None:
            return ()
        out: list[tuple[str, str]] = []
        if self.where == Where.LEG and self.from_id and self.to_id:
            out.append((self.from_id, self.to_id))
        prev = self.to_id if self.where == Where.LEG else self.place_id
        for s in self.pending:
            if s.trip != self.current_trip:
                continue
            if prev is not None and s.site_id != prev and (prev, s.site_id) not in out:
                out.append((prev, s.site_id))
            prev = s.site_id
        if prev is not None and prev != self.depot_id and (prev, self.depot_id) not in out:
            out.append((prev, self.depot_id))
        return tuple(out)


def _segments(trip: Trip) -> list[tuple[str, str, float, float]]:
    """The trip's legs as (from, to, leave time, arrival time), as the order lists them (two
    stops in a row at one site have no leg between them)."""
    out = []
    prev, prev_t = trip.depot_id, trip.start_s
    for s in trip.stops:
        if s.site_id != prev:
            out.append((prev, s.site_id, prev_t, s.arrival_s))
        prev, prev_t = s.site_id, s.departure_s
    if prev != trip.depot_id:
        out.append((prev, trip.depot_id, prev_t, trip.end_s))
    return out


def _route_legs(plan: Plan, route: VehicleRoute) -> list[Leg | None]:
    """The order's legs of ``route`` in route order (None where the order has no match)."""
    order = next(
        (o for o in plan.orders if o.kind == OrderKind.TRANSFER and o.unit_id == route.vehicle_id),
        None,
    )
    wanted = [(a, b) for t in route.trips for a, b, *_ in _segments(t)]
    legs = list(order.legs) if order is not None else []
    if [(leg.from_id, leg.to_id) for leg in legs] != wanted:
        return [None] * len(wanted)
    return list(legs)


def _segment_metres(
    plan: Plan, route: VehicleRoute, legs: Sequence[Leg | None]
) -> list[list[float]]:
    """Per trip, the metres of each of its legs: the order's legs, or — when the order does
    not match the route — the route's distance shared by driving time."""
    trips = route.trips
    segs = [_segments(t) for t in trips]
    if legs and all(leg is not None for leg in legs):
        it = iter(legs)
        return [[float(next(it).metres) for _ in sg] for sg in segs]  # type: ignore[union-attr]
    total_s = sum(t1 - t0 for sg in segs for _, _, t0, t1 in sg)
    share = float(route.distance_m) / total_s if total_s > 0 else 0.0
    return [[(t1 - t0) * share for _, _, t0, t1 in sg] for sg in segs]


def trip_metres(plan: Plan, route: VehicleRoute) -> list[float]:
    """The road metres of each trip of ``route``."""
    return [sum(m) for m in _segment_metres(plan, route, _route_legs(plan, route))]


def _point(
    leg: Leg | None, a: str, b: str, fraction: float, places: Mapping[str, tuple[float, float]]
) -> tuple[float | None, float | None]:
    if leg is not None and len(leg.coords) >= 2:
        from shapely.geometry import LineString

        line = LineString(leg.coords)
        if line.length > 0:
            p = line.interpolate(fraction, normalized=True)
            return float(p.x), float(p.y)
        return float(leg.coords[0][0]), float(leg.coords[0][1])
    pa, pb = places.get(a), places.get(b)
    if pa is None or pb is None:
        return None, None
    return pa[0] + (pb[0] - pa[0]) * fraction, pa[1] + (pb[1] - pa[1]) * fraction


def vehicle_state(plan: Plan, route: VehicleRoute, t: float) -> VehicleState:
    """``route`` (a route of ``plan``) at ``t`` seconds after the plan's time."""
    places = {p.id: (p.lon, p.lat) for p in plan.places}
    trips = route.trips
    legs = _route_legs(plan, route)
    delivered: list[StopRef] = []
    pending: list[StopRef] = []
    for ti, tr in enumerate(trips):
        for si, s in enumerate(tr.stops):
            ref = StopRef(ti, si, s.site_id, float(s.arrival_s), dict(s.loads))
            (delivered if s.arrival_s <= t else pending).append(ref)
    done = sum(1 for tr in trips if tr.end_s <= t)
    current = next((ti for ti, tr in enumerate(trips) if tr.start_s < t < tr.end_s), None)
    where, place, a, b, frac = Where.DEPOT, route.depot_id, None, None, 0.0
    lon, lat = places.get(route.depot_id, (None, None))
    driven = 0.0
    aboard: dict[str, float] = {}
    k = 0  # index into legs
    seg_m = _segment_metres(plan, route, legs)
    for ti, tr in enumerate(trips):
        for si, (fa, fb, t0, t1) in enumerate(_segments(tr)):
            leg = legs[k] if k < len(legs) else None
            k += 1
            metres = seg_m[ti][si]
            if t1 <= t:
                driven += metres
            elif t0 < t:
                share = min(1.0, max(0.0, (t - t0) / (t1 - t0))) if t1 > t0 else 1.0
                driven += metres * share
                where, place, a, b, frac = Where.LEG, None, fa, fb, share
                lon, lat = _point(leg, fa, fb, share, places)
        if ti == current:
            for s in tr.stops:
                if s.arrival_s > t:
                    for code, q in s.loads.items():
                        aboard[code] = aboard.get(code, 0.0) + float(q)
            reached = [s for s in tr.stops if s.arrival_s <= t]
            if where != Where.LEG and reached:  # not driving: unloading at the last site
                here = max(reached, key=lambda s: s.arrival_s)
                where, place = Where.SITE, here.site_id
                lon, lat = places.get(here.site_id, (None, None))
            elif where != Where.LEG:  # a cut trip turning back (dispatch.replan): no path
                where, place, a, b, lon, lat = (
                    Where.LEG,
                    None,
                    route.depot_id,
                    route.depot_id,
                    None,
                    None,
                )
    free = 0.0 if current is None else float(trips[current].end_s) - t
    return VehicleState(
        vehicle_id=route.vehicle_id,
        depot_id=route.depot_id,
        t_s=float(t),
        where=where,
        place_id=place,
        from_id=a,
        to_id=b,
        fraction=float(frac),
        lon=lon,
        lat=lat,
        current_trip=current,
        trips_done=done,
        delivered=tuple(delivered),
        pending=tuple(pending),
        aboard=aboard,
        driven_m=float(driven),
        free_s=max(0.0, free),
        free_at=route.depot_id,
    )


def fleet_state(plan: Plan, at: datetime | float) -> dict[str, VehicleState]:
    """Every vehicle with a route in ``plan`` at ``at`` (a time, or seconds after the plan's
    time), by vehicle id."""
    t = at if isinstance(at, int | float) else (at - plan.created_at).total_seconds()
    return {r.vehicle_id: vehicle_state(plan, r, float(t)) for r in plan.routes if r.trips}


@dataclass(frozen=True)
class TeamState:
    """One team of the plan at time ``t_s`` (seconds after the plan's time).

    Teams leave their base at their 派遣令's ``depart_s`` (the plan's time; before it for a
    team kept from an earlier plan) and arrive at ``eta_s``: ``on_site`` once arrived; else
    en route with ``fraction`` of the drive done (time share, as for vehicles) and ``ahead``
    the road still to drive (lon/lat, from its position to the incident; empty on site or
    without a road path)."""

    team_id: str
    incident_id: str
    t_s: float
    eta_s: float
    on_site: bool
    fraction: float
    ahead: tuple[tuple[float, float], ...] = ()


def team_state(plan: Plan, at: datetime | float) -> dict[str, TeamState]:
    """Every team sent by ``plan`` at ``at`` (a time, or seconds after the plan's time)."""
    t = at if isinstance(at, int | float) else (at - plan.created_at).total_seconds()
    t = float(t)
    paths: dict[str, list[tuple[float, float]]] = {}
    departs: dict[str, float] = {}
    for o in plan.orders:
        if o.kind == OrderKind.DEPLOY:
            departs[o.unit_id] = float(o.depart_s)
            coords = paths.setdefault(o.unit_id, [])
            for leg in o.legs:
                coords.extend((float(x), float(y)) for x, y in leg.coords)
    out: dict[str, TeamState] = {}
    for a in plan.assignment:
        eta = float(a.eta_s)
        if eta <= t:
            out[a.team_id] = TeamState(a.team_id, a.incident_id, t, eta, True, 1.0)
            continue
        dep = min(departs.get(a.team_id, 0.0), eta)
        share = min(1.0, max(0.0, (t - dep) / (eta - dep))) if eta > dep else 0.0
        ahead = path_ahead(paths.get(a.team_id, ()), share)
        out[a.team_id] = TeamState(a.team_id, a.incident_id, t, eta, False, share, ahead)
    return out


def path_ahead(
    coords: Sequence[tuple[float, float]], share: float
) -> tuple[tuple[float, float], ...]:
    """The part of a lon/lat road path still ahead once ``share`` of its time is driven (the
    speed taken as even along it); empty without a path."""
    from shapely.geometry import LineString
    from shapely.ops import substring

    if len(coords) < 2:
        return ()
    line = LineString(coords)
    rest = substring(line, share, 1.0, normalized=True) if line.length > 0 else line
    return tuple((float(x), float(y)) for x, y, *_ in rest.coords)


def delivered_loads(states: Sequence[VehicleState]) -> dict[str, dict[str, float]]:
    """Site id → material → quantity the vehicles have unloaded by their state's time."""
    out: dict[str, dict[str, float]] = {}
    for st in states:
        for s in st.delivered:
            d = out.setdefault(s.site_id, {})
            for code, q in s.loads.items():
                d[code] = d.get(code, 0.0) + float(q)
    return out


__all__ = [
    "StopRef",
    "TeamState",
    "VehicleState",
    "Where",
    "delivered_loads",
    "fleet_state",
    "path_ahead",
    "team_state",
    "trip_metres",
    "vehicle_state",
]
