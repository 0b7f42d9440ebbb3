"""GeoJSON of a plan (RFC 7946, WGS-84 lon/lat).

Features:
- one LineString per order leg, following the roads (``role`` = ``route``), with the order
  number, kind, vehicle/team, leg index, from/to ids and names, ETA at the leg's end (seconds
  after the plan time and clock time), seconds and metres, ``on_roads``;
- one Point per order stop (``role`` = ``stop``): order number, sequence, action, place, ETA,
  the items as text;
- one Point per place of the plan (``role`` = ``place``): stockpiles, incidents, shelters, team
  bases; an incident's with its served and on-time fractions, deadline and worst lateness
  (``deadline_s``, ``on_time_fraction``, ``staff_on_time_fraction``, ``late_by_s``, ``late``);
  a stop arriving after its incident's deadline has ``late_by_s`` > 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dispatch.export.common import KIND_LABEL, stop_late_s
from dispatch.orders import clock, format_quantity
from dispatch.plan import Plan
from dispatch.timeliness import incident_deadlines


def _xy(lon: float, lat: float) -> list[float]:
    return [round(float(lon), 6), round(float(lat), 6)]


def plan_geojson(plan: Plan) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection (a dict)."""
    feats: list[dict[str, Any]] = []
    deadlines = incident_deadlines(plan)
    for order in plan.orders:
        t = 0.0
        for li, leg in enumerate(order.legs, start=1):
            t_end = next(
                (s.eta_s for s in order.stops if s.place_id == leg.to_id and s.eta_s >= t),
                t + leg.seconds,
            )
            t = t_end
            coords = [_xy(*c) for c in leg.coords]
            if len(coords) < 2:
                continue
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords},
                    "properties": {
                        "role": "route",
                        "order_no": order.number,
                        "kind": order.kind.value,
                        "unit_id": order.unit_id,
                        "unit_name": order.unit_name,
                        "vehicle": order.unit_name if order.kind.value == "调拨单" else "",
                        "leg": li,
                        "from_id": leg.from_id,
                        "from_name": plan.place_name(leg.from_id),
                        "to_id": leg.to_id,
                        "to_name": plan.place_name(leg.to_id),
                        "eta_s": round(t_end, 1),
                        "eta": clock(plan.created_at, t_end),
                        "seconds": round(leg.seconds, 1),
                        "metres": round(leg.metres, 1),
                        "on_roads": leg.on_roads,
                    },
                }
            )
        for stop in order.stops:
            p = plan.place(stop.place_id)
            if p is None:
                continue
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": _xy(p.lon, p.lat)},
                    "properties": {
                        "role": "stop",
                        "order_no": order.number,
                        "kind": order.kind.value,
                        "unit_name": order.unit_name,
                        "vehicle": order.unit_name if order.kind.value == "调拨单" else "",
                        "trip": stop.trip,
                        "seq": stop.seq,
                        "action": stop.action,
                        "place_id": stop.place_id,
                        "place_name": stop.place_name,
                        "eta_s": round(stop.eta_s, 1),
                        "eta": clock(plan.created_at, stop.eta_s),
                        "late_by_s": round(stop_late_s(deadlines, stop), 1),
                        "items": "、".join(
                            f"{i.name} {format_quantity(i.quantity)}{i.unit}" for i in stop.items
                        ),
                    },
                }
            )
    outcome = {o.incident_id: o for o in plan.incidents}
    for p in plan.places:
        props: dict[str, Any] = {
            "role": "place",
            "id": p.id,
            "name": p.name,
            "kind": p.kind,
            "kind_zh": KIND_LABEL.get(p.kind, p.kind),
        }
        if p.id in outcome:
            props["served_fraction"] = round(outcome[p.id].served_fraction, 4)
            props["staff_fraction"] = round(outcome[p.id].staff_fraction, 4)
            o = outcome[p.id]
            props["deadline_s"] = o.deadline_s
            props["on_time_fraction"] = (
                None if o.on_time_fraction is None else round(o.on_time_fraction, 4)
            )
            props["staff_on_time_fraction"] = (
                None if o.staff_on_time_fraction is None else round(o.staff_on_time_fraction, 4)
            )
            props["late_by_s"] = round(o.late_by_s, 1)
            props["late"] = dict(o.late)
            props["late_teams"] = list(o.late_teams)
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": _xy(p.lon, p.lat)},
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "name": plan.number,
        "properties": {
            "plan_no": plan.number,
            "status": plan.status.value,
            "created_at": plan.created_at.isoformat(),
            "scenario": plan.inputs.scenario_name,
        },
        "features": feats,
    }


def export_geojson(plan: Plan, path: Path | str) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(plan_geojson(plan), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["export_geojson", "plan_geojson"]
