"""Dispatch orders (调度指令): one per unit, built from a plan's routes and team assignments.

- 调拨单 (:attr:`OrderKind.TRANSFER`): one per vehicle, covering its whole trip chain — for each
  trip: load at the depot (items, quantities, weights), deliver to each site (ETA, items), return;
  the turn list of every leg (road names and distances, consecutive steps on the same road merged).
- 派遣令 (:attr:`OrderKind.DEPLOY`): one per team — go to incident Y, task, skills, headcount,
  ETA and a route summary (main roads, distance, minutes) with the full turn list.

Orders are plain frozen dataclasses (JSON-able through :class:`dispatch.plan.Plan`). Paths come
from a caller-supplied function ``paths(from_place_id, to_place_id) -> LegPath | None`` — the
pipeline backs it with :meth:`gis.matrix.TravelTimeEngine.path`; tests can pass their own.
Times are seconds after the plan's time (``Plan.created_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dispatch.records import (
    DispatchOrder,
    Leg,
    LegPath,
    OrderItem,
    OrderKind,
    OrderStop,
    PathFn,
    Place,
    TeamDispatch,
    TurnStep,
    VehicleRoute,
)

if TYPE_CHECKING:  # pragma: no cover
    from gis.model import Scenario


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def merge_steps(steps: Iterable[TurnStep]) -> tuple[TurnStep, ...]:
    """Merge consecutive steps on the same road (sum distances and seconds)."""
    out: list[TurnStep] = []
    for s in steps:
        if out and out[-1].road == s.road:
            prev = out[-1]
            out[-1] = TurnStep(prev.road, prev.distance_m + s.distance_m, prev.seconds + s.seconds)
        else:
            out.append(TurnStep(s.road, float(s.distance_m), float(s.seconds)))
    return tuple(out)


#: Steps shorter than this (links, roundabouts, a few metres of another road) are folded into
#: the previous step of the turn list, so the driver reads "CG-2 10.3 km", not three rows.
MIN_STEP_M = 150.0


def compact_steps(steps: Iterable[TurnStep], min_m: float = MIN_STEP_M) -> tuple[TurnStep, ...]:
    """Merge same-road runs, fold steps shorter than ``min_m`` into the previous one, merge again.

    Total distance and time are preserved exactly.
    """
    out: list[TurnStep] = []
    merged = list(merge_steps(steps))
    if len(merged) > 1 and merged[0].distance_m < min_m:  # a few metres out of the gate
        first, second = merged[0], merged[1]
        merged[:2] = [
            TurnStep(
                second.road, first.distance_m + second.distance_m, first.seconds + second.seconds
            )
        ]
    for s in merged:
        if out and s.distance_m < min_m:
            prev = out[-1]
            out[-1] = TurnStep(prev.road, prev.distance_m + s.distance_m, prev.seconds + s.seconds)
        else:
            out.append(s)
    return merge_steps(out)


def format_distance(metres: float) -> str:
    return f"{metres / 1000:.1f} 公里" if metres >= 1000 else f"{metres:.0f} 米"


def order_number(plan_number: str, seq: int) -> str:
    """``HJ-20261122-001-01``: the plan number and a two-digit (or longer) order sequence."""
    return f"{plan_number}-{seq:02d}"


def clock(start: datetime, seconds: float) -> str:
    """Absolute time ``start + seconds`` as ``HH:MM`` (with the date if it is another day)."""
    t = start + timedelta(seconds=float(seconds))
    if t.date() != start.date():
        return f"{t:%m-%d %H:%M}"
    return f"{t:%H:%M}"


def format_duration(seconds: float) -> str:
    minutes = int(round(float(seconds) / 60.0))
    if minutes < 1:
        return "不足 1 分钟"
    if minutes < 60:
        return f"{minutes} 分钟"
    return f"{minutes // 60} 小时 {minutes % 60} 分钟"


def format_quantity(q: float) -> str:
    return f"{q:g}" if float(q).is_integer() else f"{q:.2f}".rstrip("0").rstrip(".")


def _items(loads: Mapping[str, float], materials: Mapping[str, Any]) -> tuple[OrderItem, ...]:
    out = []
    for code in sorted(loads):
        q = float(loads[code])
        if q <= 0:
            continue
        m = materials.get(code)
        name = m.name_zh if m is not None else code
        unit = m.unit if m is not None else ""
        w = q * m.unit_weight_kg if m is not None else 0.0
        out.append(OrderItem(code, name, unit, q, round(w, 3)))
    return tuple(out)


def _sum_loads(loads: Iterable[Mapping[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for d in loads:
        for k, v in d.items():
            total[k] = total.get(k, 0.0) + float(v)
    return total


def _leg(
    paths: PathFn,
    places: Mapping[str, Place],
    a: str,
    b: str,
    fallback_s: float,
    speed_factor: float = 1.0,
) -> Leg:
    """The leg a → b; road times are divided by the vehicle's ``speed_factor`` (as the router
    does), so the turn list agrees with the ETAs."""
    p = paths(a, b) if a != b else None
    if p is not None:
        k = 1.0 / speed_factor if speed_factor > 0 else 1.0
        steps = tuple(
            TurnStep(st.road, st.distance_m, st.seconds * k) for st in compact_steps(p.steps)
        )
        return Leg(a, b, float(p.seconds) * k, float(p.metres), steps, tuple(p.coords))
    pa, pb = places.get(a), places.get(b)
    coords = ((pa.lon, pa.lat), (pb.lon, pb.lat)) if pa is not None and pb is not None else ()
    return Leg(a, b, float(max(fallback_s, 0.0)), 0.0, (), coords, on_roads=a == b)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def transfer_order(
    number: str,
    route: VehicleRoute,
    *,
    scenario: Scenario,
    places: Mapping[str, Place],
    paths: PathFn,
) -> DispatchOrder:
    """The 调拨单 of one vehicle's trip chain."""
    materials = scenario.material_index
    vehicle = None
    for sp in scenario.stockpiles:
        for v in sp.vehicles:
            if v.id == route.vehicle_id:
                vehicle = v
    name = (
        (vehicle.name or f"{vehicle.kind} {vehicle.id}")
        if vehicle is not None
        else route.vehicle_id
    )
    vtype = vehicle.kind if vehicle is not None else ""
    speed = vehicle.speed_factor if vehicle is not None else 1.0

    def pname(pid: str) -> str:
        p = places.get(pid)
        return p.name if p is not None else pid

    stops: list[OrderStop] = []
    legs: list[Leg] = []
    destinations: list[str] = []
    all_loads: list[Mapping[str, float]] = []
    last_eta = 0.0
    seq = 0
    trips = [t for t in route.trips if t.stops]
    for ti, trip in enumerate(trips, start=1):
        trip_loads = _sum_loads(s.loads for s in trip.stops)
        all_loads.append(trip_loads)
        seq += 1
        stops.append(
            OrderStop(
                seq,
                "装货",
                trip.depot_id,
                pname(trip.depot_id),
                trip.start_s,
                _items(trip_loads, materials),
                ti,
            )
        )
        prev, prev_t = trip.depot_id, trip.start_s
        for s in trip.stops:
            if s.site_id != prev:  # two visits in a row to one site: no driving between them
                legs.append(_leg(paths, places, prev, s.site_id, s.arrival_s - prev_t, speed))
            seq += 1
            stops.append(
                OrderStop(
                    seq,
                    "卸货",
                    s.site_id,
                    pname(s.site_id),
                    s.arrival_s,
                    _items(s.loads, materials),
                    ti,
                )
            )
            if s.site_id not in destinations:
                destinations.append(s.site_id)
            last_eta = max(last_eta, s.arrival_s)
            prev, prev_t = s.site_id, s.departure_s
        if prev != trip.depot_id:
            legs.append(_leg(paths, places, prev, trip.depot_id, trip.end_s - prev_t, speed))
        seq += 1
        stops.append(
            OrderStop(seq, "返回", trip.depot_id, pname(trip.depot_id), trip.end_s, (), ti)
        )
    deadlines = {i.id: i.deadline_min * 60.0 for i in scenario.incidents}
    late = [
        st
        for st in stops
        if st.action == "卸货" and st.place_id in deadlines and st.eta_s > deadlines[st.place_id]
    ]
    depart = trips[0].start_s if trips else 0.0
    end = trips[-1].end_s if trips else 0.0
    total_m = sum(leg.metres for leg in legs) or float(route.distance_m)
    notes = []
    if len(trips) > 1:
        notes.append(f"共 {len(trips)} 趟（返回装货后再次出发）")
    for stop in late:
        over = (stop.eta_s - deadlines[stop.place_id]) / 60.0
        notes.append(f"第 {stop.seq} 站 {stop.place_name} 晚于时限约 {over:.0f} 分钟送达")
    if any(not leg.on_roads for leg in legs):
        notes.append("部分路段无道路路径，按直线示意")
    return DispatchOrder(
        number=number,
        kind=OrderKind.TRANSFER,
        unit_id=route.vehicle_id,
        unit_name=name,
        unit_type=vtype,
        origin_id=route.depot_id,
        destination_ids=tuple(destinations),
        stops=tuple(stops),
        items=_items(_sum_loads(all_loads), materials),
        legs=tuple(legs),
        depart_s=float(depart),
        eta_s=float(last_eta),
        end_s=float(end),
        total_seconds=float(end - depart),
        total_metres=float(total_m),
        task="物资调拨：" + "、".join(pname(d) for d in destinations),
        notes=tuple(notes),
    )


def deploy_order(
    number: str,
    dispatch: TeamDispatch,
    *,
    scenario: Scenario,
    places: Mapping[str, Place],
    paths: PathFn,
) -> DispatchOrder:
    """The 派遣令 of one team."""
    team = next((t for t in scenario.teams if t.id == dispatch.team_id), None)
    incident = next((i for i in scenario.incidents if i.id == dispatch.incident_id), None)
    iname = incident.name if incident is not None else dispatch.incident_id
    leg = _leg(paths, places, dispatch.team_id, dispatch.incident_id, dispatch.eta_s)
    eta = float(dispatch.eta_s)
    skills = tuple(dispatch.skills) or (team.skills if team is not None else ())
    task_kind = f"{incident.subtype}处置" if incident is not None else "应急处置"
    task = f"赶赴{iname}，承担{task_kind}"
    if skills:
        task += "（" + "、".join(skills) + "）"
    contact = ""
    if team is not None and (team.leader or team.phone):
        contact = " ".join(x for x in (team.leader, team.phone) if x)
    notes = []
    if incident is not None and eta > incident.deadline_min * 60:
        notes.append(f"预计到达晚于时限（{incident.deadline_min:g} 分钟）")
    if not leg.on_roads:
        notes.append("无道路路径，按直线示意")
    return DispatchOrder(
        number=number,
        kind=OrderKind.DEPLOY,
        unit_id=dispatch.team_id,
        unit_name=team.name if team is not None else dispatch.team_id,
        unit_type=str(team.force_type) if team is not None else "",
        origin_id=dispatch.team_id,
        destination_ids=(dispatch.incident_id,),
        stops=(
            OrderStop(
                1,
                "出发",
                dispatch.team_id,
                places[dispatch.team_id].name if dispatch.team_id in places else dispatch.team_id,
                0.0,
            ),
            OrderStop(2, "到达", dispatch.incident_id, iname, eta),
        ),
        items=(),
        legs=(leg,),
        depart_s=0.0,
        eta_s=eta,
        end_s=eta,
        total_seconds=eta,
        total_metres=leg.metres,
        task=task,
        skills=tuple(skills),
        headcount=int(dispatch.headcount),
        contact=contact,
        notes=tuple(notes),
    )


def build_orders(
    plan_number: str,
    *,
    scenario: Scenario,
    places: Sequence[Place],
    routes: Sequence[VehicleRoute],
    assignment: Sequence[TeamDispatch],
    paths: PathFn,
) -> tuple[DispatchOrder, ...]:
    """All orders of a plan: 调拨单 per vehicle with deliveries (by vehicle id), then 派遣令 per
    team (by incident, then ETA). Numbered ``<plan>-01``, ``<plan>-02`` …"""
    index = {p.id: p for p in places}
    out: list[DispatchOrder] = []
    used = sorted((r for r in routes if any(t.stops for t in r.trips)), key=lambda r: r.vehicle_id)
    for r in used:
        out.append(
            transfer_order(
                order_number(plan_number, len(out) + 1),
                r,
                scenario=scenario,
                places=index,
                paths=paths,
            )
        )
    for d in sorted(assignment, key=lambda d: (d.incident_id, d.eta_s, d.team_id)):
        out.append(
            deploy_order(
                order_number(plan_number, len(out) + 1),
                d,
                scenario=scenario,
                places=index,
                paths=paths,
            )
        )
    return tuple(out)


__all__ = [
    "DispatchOrder",
    "Leg",
    "LegPath",
    "OrderItem",
    "OrderKind",
    "OrderStop",
    "PathFn",
    "TurnStep",
    "build_orders",
    "clock",
    "compact_steps",
    "deploy_order",
    "format_distance",
    "format_duration",
    "format_quantity",
    "merge_steps",
    "order_number",
    "transfer_order",
]
