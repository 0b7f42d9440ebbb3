"""A dispatch :class:`~dispatch.plan.Plan` as payloads for the map's "planned routes" layer.

Qt-free (testable without a display). :func:`route_features` returns the GeoJSON
FeatureCollection that ``RD.setLayerData("routes", payload)`` draws (see
``resources/js/reliefdesk_map.js``: ``L.geoJSON`` with ``properties.color`` as the line colour,
``tip``/``popup`` bound as tooltip/popup HTML). It holds, per vehicle (one colour each):

- ``role="trip"``: one LineString per trip, depot → stops → depot, along the roads (the order
  legs' path geometry);
- ``role="arrow"``: small arrowheads (3-point LineStrings, a "V" pointing the driving way) spaced
  along each trip, so direction reads on the map without a JS decorator plugin;
- ``role="stop"``: one Point per delivery stop, its tooltip "车辆 · 第 t 趟 第 k 站 · 地点 · 到达"
  (and "迟到 N 分钟（时限 M 分钟）" when it arrives after its incident's deadline, also in the
  popup);
  ``label`` holds the short stop number ("k", or "t-k" for multi-trip vehicles), which the page
  draws as a numbered badge in the vehicle's colour beside the site's own marker.

Lines carry ``color`` and ``weight`` (px) for the page's route style; the page draws each arrow
"V" as a fixed-size triangle marker at its tip, turned the way the V points (readable at every
zoom, where a V a few hundred metres wide is not).

Team deployments (派遣令) are added as ``role="team"`` lines with ``include_teams=True``.
Every text that reaches the page as HTML is escaped here.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Sequence
from typing import Any

from dispatch.export.common import vehicle_colors
from dispatch.orders import clock
from dispatch.plan import Plan
from dispatch.records import DispatchOrder, Leg, OrderKind, VehicleRoute
from dispatch.timeliness import arrival_late_s, incident_deadlines, minutes_text
from gis.map_style import ROUTE_COLORS, TEAM_COLOR
from gis.map_style import route_color as color_for

#: Arrowhead wing length (metres on the ground) and spacing along a trip (metres).
ARROW_M = 140.0
ARROW_SPACING_M = 2500.0
DIGITS = 6
#: line widths (px) of vehicle trips and team deployments on the map
TRIP_WEIGHT = 4
TEAM_WEIGHT = 3


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _popup(title: str, rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows if v not in ("", None)
    )
    return f"<div class='rd-popup'><b>{_e(title)}</b><table>{body}</table></div>"


def _join(legs: Sequence[Leg]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for leg in legs:
        pts = [(float(x), float(y)) for x, y in leg.coords]
        if out and pts and out[-1] == pts[0]:
            pts = pts[1:]
        out.extend(pts)
    return out


def trip_legs(route: VehicleRoute, order: DispatchOrder) -> list[list[Leg]]:
    """The order's legs grouped per trip (trips with stops only, in order).

    :func:`dispatch.orders.transfer_order` writes, per trip with stops, one leg per stop plus the
    return leg; this regroups them.
    """
    out: list[list[Leg]] = []
    i = 0
    legs = list(order.legs)
    for trip in route.trips:
        if not trip.stops:
            continue
        n = len(trip.stops) + 1
        out.append(legs[i : i + n])
        i += n
    return out


def _metric(coords: Sequence[tuple[float, float]]) -> tuple[list[tuple[float, float]], float]:
    """Local equirectangular metres (x east, y north) around the first point; and cos(lat0)."""
    lat0 = coords[0][1]
    k = math.cos(math.radians(lat0))
    m = 111_320.0
    x0, y0 = coords[0]
    return [((x - x0) * m * k, (y - y0) * m) for x, y in coords], k


def arrowheads(
    coords: Sequence[tuple[float, float]],
    *,
    spacing_m: float = ARROW_SPACING_M,
    size_m: float = ARROW_M,
    max_arrows: int = 12,
) -> list[list[list[float]]]:
    """Arrowheads ("V" of three lon/lat points, tip in the middle) along a line.

    Placed at equal distances (about every ``spacing_m``, at least one, at most ``max_arrows``),
    pointing the way the line runs.
    """
    if len(coords) < 2:
        return []
    xy, k = _metric(coords)
    seg = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(xy, xy[1:])]
    total = sum(seg)
    if total <= 0:
        return []
    n = max(1, min(max_arrows, int(total // spacing_m)))
    targets = [total * (j + 1) / (n + 1) for j in range(n)]
    m = 111_320.0
    x0, y0 = coords[0]
    out: list[list[list[float]]] = []
    acc = 0.0
    s = 0
    for d in targets:
        while s < len(seg) - 1 and acc + seg[s] < d:
            acc += seg[s]
            s += 1
        # skip zero-length pieces: direction needs a real segment
        j = s
        while j < len(seg) and seg[j] <= 0:
            j += 1
        if j >= len(seg):
            continue
        a, b = xy[j], xy[j + 1]
        t = 0.0 if j != s else min(1.0, max(0.0, (d - acc) / seg[j]))
        px, py = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
        ux, uy = (b[0] - a[0]) / seg[j], (b[1] - a[1]) / seg[j]
        wings = []
        for ang in (math.radians(150), math.radians(-150)):
            c, sn = math.cos(ang), math.sin(ang)
            wx, wy = ux * c - uy * sn, ux * sn + uy * c
            wings.append((px + wx * size_m, py + wy * size_m))

        def lonlat(p: tuple[float, float]) -> list[float]:
            return [round(x0 + p[0] / (m * k), DIGITS), round(y0 + p[1] / m, DIGITS)]

        out.append([lonlat(wings[0]), lonlat((px, py)), lonlat(wings[1])])
    return out


def _line(coords: Sequence[tuple[float, float]]) -> dict[str, Any]:
    return {
        "type": "LineString",
        "coordinates": [[round(x, DIGITS), round(y, DIGITS)] for x, y in coords],
    }


def _late_note(deadlines: dict[str, float], site_id: str, arrival_s: float) -> str:
    """``迟到 12 分钟（时限 45 分钟）`` for an arrival after its incident's deadline, else ""."""
    late = arrival_late_s(deadlines.get(site_id), arrival_s)
    if late <= 0:
        return ""
    return f"迟到 {minutes_text(late)}（时限 {deadlines[site_id] / 60:.0f} 分钟）"


def _vehicle_features(plan: Plan) -> Iterator[dict[str, Any]]:
    colors = vehicle_colors(plan)
    deadlines = incident_deadlines(plan)
    routes = {r.vehicle_id: r for r in plan.routes}
    for order in plan.transfer_orders:
        route = routes.get(order.unit_id)
        if route is None:
            continue
        color = colors[order.unit_id]
        trips = [t for t in route.trips if t.stops]
        for ti, (trip, legs) in enumerate(zip(trips, trip_legs(route, order)), start=1):
            coords = _join(legs)
            if len(coords) < 2:
                continue
            names = "→".join(plan.place_name(s.site_id) for s in trip.stops)
            tip = f"{order.unit_name} 第{ti}趟：{plan.place_name(trip.depot_id)}→{names}"
            popup = _popup(
                f"{order.unit_name} 第{ti}趟",
                [
                    ("指令", order.number),
                    (
                        "出发",
                        f"{plan.place_name(trip.depot_id)} {clock(plan.created_at, trip.start_s)}",
                    ),
                    ("途经", names),
                    ("返回", clock(plan.created_at, trip.end_s)),
                    ("里程", f"{sum(lg.metres for lg in legs) / 1000:.1f} 公里"),
                    ("沿道路", "是" if all(lg.on_roads for lg in legs) else "否（直线示意）"),
                ],
            )
            props = {
                "role": "trip",
                "vehicle": order.unit_id,
                "trip": ti,
                "order_no": order.number,
                "color": color,
                "weight": TRIP_WEIGHT,
                "tip": _e(tip),
                "popup": popup,
            }
            yield {"type": "Feature", "geometry": _line(coords), "properties": props}
            for arrow in arrowheads(coords):
                yield {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": arrow},
                    "properties": {
                        "role": "arrow",
                        "vehicle": order.unit_id,
                        "trip": ti,
                        "color": color,
                        "weight": 3,
                        "tip": _e(tip),
                    },
                }
            for k, s in enumerate(trip.stops, start=1):
                p = plan.place(s.site_id)
                if p is None:
                    continue
                loads = "、".join(
                    f"{plan.material_label(c)} {q:g}{plan.material_unit(c)}"
                    for c, q in s.loads.items()
                )
                late = _late_note(deadlines, s.site_id, s.arrival_s)
                label = (
                    f"{order.unit_name} · 第{ti}趟 第{k}站 · {p.name} · "
                    f"到达 {clock(plan.created_at, s.arrival_s)}" + (f" · {late}" if late else "")
                )
                yield {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [round(p.lon, DIGITS), round(p.lat, DIGITS)],
                    },
                    "properties": {
                        "role": "stop",
                        "vehicle": order.unit_id,
                        "trip": ti,
                        "seq": k,
                        "label": f"{ti}-{k}" if len(trips) > 1 else str(k),
                        "color": color,
                        "tip": _e(label),
                        "popup": _popup(label, [("卸货", loads), ("迟到", late)]),
                    },
                }


def _team_features(plan: Plan) -> Iterator[dict[str, Any]]:
    deadlines = incident_deadlines(plan)
    for order in plan.orders:
        if order.kind != OrderKind.DEPLOY:
            continue
        coords = _join(order.legs)
        if len(coords) < 2:
            continue
        tip = (
            f"{order.unit_name}→{plan.place_name(order.destination_ids[0])} "
            f"到达 {clock(plan.created_at, order.eta_s)}"
            if order.destination_ids
            else order.unit_name
        )
        if order.destination_ids:
            late = _late_note(deadlines, order.destination_ids[0], order.eta_s)
            tip += f" {late}" if late else ""
        yield {
            "type": "Feature",
            "geometry": _line(coords),
            "properties": {
                "role": "team",
                "team": order.unit_id,
                "order_no": order.number,
                "color": TEAM_COLOR,
                "weight": TEAM_WEIGHT,
                "tip": _e(tip),
            },
        }


def route_features(plan: Plan | None, *, include_teams: bool = False) -> dict[str, Any]:
    """The "routes" layer payload of ``plan`` (an empty collection for None); see module doc."""
    feats: list[dict[str, Any]] = []
    if plan is not None:
        feats.extend(_vehicle_features(plan))
        if include_teams:
            feats.extend(_team_features(plan))
    return {"type": "FeatureCollection", "features": feats}


__all__ = [
    "ROUTE_COLORS",
    "arrowheads",
    "color_for",
    "route_features",
    "trip_legs",
    "vehicle_colors",
]
