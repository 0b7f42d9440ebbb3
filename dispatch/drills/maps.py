"""Overview-map layers for drill, comparison and review reports (plain data, drawn by
:func:`dispatch.export.map_drawing.overview_drawing`).

- :func:`ground_layers`: the county outline (``Scenario.boundary``), the main roads (国道, 省道,
  县道: OSM ``trunk``/``primary``/``secondary``/``tertiary`` and their links — the lower classes
  are left out so a county's map stays legible and the PDF small) and the scenario's closures.
- :func:`plan_layers`: one plan's routes (vehicles solid, teams dashed, the way back to the
  depot left out) with the orders of ``highlight`` units drawn thick in another colour (the
  orders changed since the previous plan), and its incidents.
- :func:`pair_layers`: plan A and plan B in two colours, with a legend.
- :func:`vehicle_points`: where the vehicles of the plan in force are at an inject's time
  (:func:`dispatch.fleet_state.fleet_state`), a circle per vehicle under way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

from dispatch.export.common import clean_text
from dispatch.export.map_drawing import (
    CLOSURE_COLOUR,
    INCIDENT_COLOUR,
    LegendItem,
    MapClosure,
    MapLine,
    MapPoint,
    OverviewLayers,
)
from dispatch.fleet_state import fleet_state
from dispatch.plan import Plan
from dispatch.records import OrderKind

MAIN_ROAD_CLASSES = frozenset(
    {"motorway", "trunk", "primary", "secondary", "tertiary"}
    | {f"{c}_link" for c in ("motorway", "trunk", "primary", "secondary", "tertiary")}
)

PLAN_COLOUR = "#1f5fa8"
CHANGED_COLOUR = "#e67e22"
PLAN_A_COLOUR = "#1f5fa8"  # blue
PLAN_B_COLOUR = "#f39c12"  # orange (red is for closures)
VEHICLE_COLOUR = "#16a085"  # teal: a vehicle under way at the inject's time


def _coords(geom: Any) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y, *_ in geom.coords)


def _rings(geom: Any) -> list[tuple[tuple[float, float], ...]]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [_coords(geom.exterior), *(_coords(i) for i in geom.interiors)]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [r for g in geom.geoms for r in _rings(g)]
    return []


def closure_shapes(closures: Iterable[Any]) -> tuple[MapClosure, ...]:
    """The model's :class:`gis.model.RoadClosure` geometries as map closures."""
    out: list[MapClosure] = []
    for c in closures:
        g = c.geometry
        parts = list(g.geoms) if hasattr(g, "geoms") else [g]
        for part in parts:
            t = part.geom_type
            if t == "Point":
                out.append(MapClosure("point", _coords(part), float(c.radius_m)))
            elif t == "LineString":
                out.append(MapClosure("line", _coords(part)))
            elif t == "Polygon":
                out.append(MapClosure("area", _coords(part.exterior)))
    return tuple(out)


def ground_layers(scenario: Any | None, network: Any | None) -> OverviewLayers:
    """Outline, main roads and closures (empty parts when there is no scenario or network)."""
    outline = tuple(_rings(getattr(scenario, "boundary", None)))
    roads: list[tuple[tuple[float, float], ...]] = []
    if network is not None:
        for hw, geom in zip(network.edge_highway, network.edge_geometry, strict=False):
            if str(hw) in MAIN_ROAD_CLASSES and geom is not None:
                roads.append(_coords(geom))
    closures = closure_shapes(getattr(scenario, "closures", ()) or ())
    legend = (LegendItem("道路封闭/限行", CLOSURE_COLOUR, "closure"),) if closures else ()
    return OverviewLayers(outline=outline, roads=tuple(roads), closures=closures, legend=legend)


def _order_lines(
    plan: Plan, colour: str, width: float, units: Collection[str] | None = None
) -> list[MapLine]:
    out = []
    for o in plan.orders:
        if units is not None and o.unit_id not in units:
            continue
        team = o.kind == OrderKind.DEPLOY
        for leg in o.legs:
            if o.kind == OrderKind.TRANSFER and leg.to_id == o.origin_id:
                continue  # the way back: not part of the decision
            if len(leg.coords) >= 2:
                out.append(
                    MapLine(
                        tuple((float(x), float(y)) for x, y in leg.coords),
                        colour,
                        width,
                        (3.0, 2.0) if team else None,
                    )
                )
    return out


def incident_points(plans: Iterable[Plan]) -> tuple[MapPoint, ...]:
    """Each incident of the plans once (first plan's place wins), labelled by name."""
    seen: dict[str, MapPoint] = {}
    for plan in plans:
        for o in plan.incidents:
            p = plan.place(o.incident_id)
            if p is not None and o.incident_id not in seen:
                seen[o.incident_id] = MapPoint(p.lon, p.lat, clean_text(p.name, 14))
    return tuple(seen.values())


def plan_layers(
    ground: OverviewLayers, plan: Plan, highlight: Collection[str] = ()
) -> OverviewLayers:
    """``ground`` plus ``plan``'s routes; the orders of the ``highlight`` units thick orange."""
    lines = _order_lines(plan, PLAN_COLOUR, 1.2)
    if highlight:
        lines += _order_lines(plan, CHANGED_COLOUR, 2.6, set(highlight))
    legend = [
        LegendItem("车辆路线", PLAN_COLOUR, "line"),
        LegendItem("队伍路线", PLAN_COLOUR, "dash"),
    ]
    if highlight:
        legend.append(LegendItem("本步变更的指令", CHANGED_COLOUR, "thick"))
    legend.append(LegendItem("事件", INCIDENT_COLOUR, "triangle"))
    return replace(
        ground,
        lines=tuple(lines),
        points=incident_points([plan]),
        legend=(*legend, *ground.legend),
    )


def vehicle_points(plan: Plan, at: Any) -> tuple[MapPoint, ...]:
    """A circle per vehicle of ``plan`` under way at ``at`` (a time), labelled by vehicle id;
    vehicles whose position is not known (no road path) are left out."""
    return tuple(
        MapPoint(st.lon, st.lat, clean_text(vid, 14), VEHICLE_COLOUR, "circle")
        for vid, st in sorted(fleet_state(plan, at).items())
        if st.under_way and st.lon is not None and st.lat is not None
    )


def with_vehicles(layers: OverviewLayers, points: tuple[MapPoint, ...]) -> OverviewLayers:
    """``layers`` plus the vehicle markers of :func:`vehicle_points` (and their legend)."""
    if not points:
        return layers
    return replace(
        layers,
        points=(*layers.points, *points),
        legend=(*layers.legend, LegendItem("插入时刻在途车辆", VEHICLE_COLOUR, "circle")),
    )


def pair_layers(
    ground: OverviewLayers, a: Plan, b: Plan, labels: tuple[str, str] = ("方案A", "方案B")
) -> OverviewLayers:
    """``ground`` plus plan A (blue, thick) and plan B (orange, thin) routes, teams dashed;
    ``labels`` name the two in the legend (followed by the plan numbers)."""
    lines = _order_lines(a, PLAN_A_COLOUR, 2.4) + _order_lines(b, PLAN_B_COLOUR, 1.1)
    legend = (
        LegendItem(clean_text(f"{labels[0]} {a.number}", 40), PLAN_A_COLOUR, "thick"),
        LegendItem(clean_text(f"{labels[1]} {b.number}", 40), PLAN_B_COLOUR, "line"),
        LegendItem("队伍路线（虚线）", "#555555", "dash"),
        LegendItem("事件", INCIDENT_COLOUR, "triangle"),
    )
    return replace(
        ground,
        lines=tuple(lines),
        points=incident_points([a, b]),
        legend=(*legend, *ground.legend),
    )


__all__ = [
    "MAIN_ROAD_CLASSES",
    "closure_shapes",
    "ground_layers",
    "incident_points",
    "pair_layers",
    "plan_layers",
    "vehicle_points",
    "with_vehicles",
]
