"""The map's layers as plain JSON-able data (Qt-free, testable): the layer list of the panel,
one payload maker per entity layer, the road payload and the scenario's bounds.

:func:`layer_payloads` gives each layer's payload for ``RD.setLayerData`` — the page built by
:mod:`gui.map_page` carries them all, and a single layer can be refreshed without reloading the
page (:mod:`gui.map_updates` redraws single markers). The ground layers (villages, water,
bridges, township areas) are made in :mod:`gui.map_ground`.

Safety: names from data only reach the page as JSON or as HTML that :func:`html.escape`
produced (:func:`gui.js_text.popup_html`, :func:`gui.js_text.escape`). The page's fixed words go
through :func:`tr` (:func:`set_translator` installs the desk's translator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from gis.map_style import (
    BRIDGE_COLOR,
    CANDIDATE_COLOR,
    HAZARD_COLORS,
    HIGHWAY_TO_CLASS,
    LEVEL_COLORS,
    ROAD_CLASSES,
    SHELTER_COLOR,
    STOCKPILE_COLOR,
    TEAM_COLOR,
    TOWNSHIP_COLOR,
    VILLAGE_COLOR,
    WATER_COLOR,
)
from gis.model import (
    CANDIDATE_KIND_ZH,
    LEVEL_NAME_ZH,
    LEVEL_ROMAN,
    Hazard,
    Incident,
    RoadClosure,
    Scenario,
    Shelter,
    Stockpile,
    Team,
)
from gui.js_text import escape, popup_html
from gui.map_ground import bridge_features, village_points, water_features


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One entry of the layer panel."""

    id: str
    label_zh: str
    label_en: str
    color: str
    visible: bool = True


#: Layers in drawing/panel order (top of the panel = drawn last/on top).
LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("incidents", "突发事件", "Incidents", LEVEL_COLORS[1]),
    LayerSpec("teams", "救援队伍", "Rescue teams", TEAM_COLOR),
    LayerSpec("stockpiles", "储备库", "Stockpiles", STOCKPILE_COLOR),
    LayerSpec("shelters", "避难场所", "Shelters", SHELTER_COLOR),
    LayerSpec("candidate_sites", "候选站点", "Candidate sites", CANDIDATE_COLOR),
    # the villages layer draws the demand points; this one makes them editable (off by default)
    LayerSpec(
        "demand_points", "需求点（可编辑）", "Demand points (editable)", VILLAGE_COLOR, False
    ),
    LayerSpec("routes", "规划路线", "Planned routes", "#1f78b4"),
    LayerSpec("closures", "道路管制", "Road closures", "#c0392b"),
    LayerSpec("closed_roads", "受阻路段", "Affected roads", "#ff0000"),
    LayerSpec("hazards", "危险源/风险点", "Hazards", HAZARD_COLORS[1]),
    LayerSpec("townships", "乡镇驻地", "Townships", TOWNSHIP_COLOR),
    LayerSpec("villages", "村/社区", "Villages", VILLAGE_COLOR),
    LayerSpec("bridges", "桥梁", "Bridges", BRIDGE_COLOR),
    LayerSpec("roads", "道路", "Roads", ROAD_CLASSES["trunk"][1]),
    LayerSpec("water", "河流水系", "Rivers and water", WATER_COLOR),
    LayerSpec("boundary", "县界", "County outline", "#333333"),
)
LAYER_IDS: tuple[str, ...] = tuple(s.id for s in LAYERS)


#: The page's fixed words (popup fields, glyphs, layer names) go through :func:`tr`; this module
#: is Qt-free, so the desk installs its translator (``gui.i18n.tr``) with :func:`set_translator`.
_translate: Callable[[str], str] = str


def set_translator(translate: Callable[[str], str]) -> None:
    """Word the pages built from now on with ``translate`` (Chinese source → UI language)."""
    global _translate
    _translate = translate


def tr(text: str) -> str:
    """A fixed word of the page in the UI language (Chinese without a translator)."""
    return _translate(text)


def road_class(highway: object) -> str:
    """Display class key of an OSM ``highway`` value (lists take their first element)."""
    if isinstance(highway, list | tuple):
        highway = highway[0] if highway else ""
    return HIGHWAY_TO_CLASS.get(str(highway or ""), "other")


def _qty(scenario: Scenario, quantities: Mapping[str, float], limit: int = 8) -> str:
    en = tr("储") != "储"  # the words in force are English: catalogue names and units too
    names = {
        m.code: (m.name_en if en and m.name_en else m.name_zh, tr(m.unit))
        for m in scenario.materials
    }
    parts = []
    for code, q in list(quantities.items())[:limit]:
        name, unit = names.get(code, (code, ""))
        parts.append(f"{name} {q:g}{' ' if en else ''}{unit}")
    if len(quantities) > limit:
        parts.append(tr("… 共 {n} 项").format(n=len(quantities)))
    return tr("，").join(parts)


# --------------------------------------------------------------------------------------------
# Layer payloads (plain JSON-able data, also used for incremental updates)
# --------------------------------------------------------------------------------------------


def _r(x: float) -> float:
    return round(float(x), 6)


def _geojson_geometry(geom: BaseGeometry, digits: int = 6) -> dict[str, Any]:
    def rnd(obj: Any) -> Any:
        if isinstance(obj, float):
            return round(obj, digits)
        if isinstance(obj, list | tuple):
            return [rnd(o) for o in obj]
        return obj

    gj = mapping(geom)
    return {"type": gj["type"], "coordinates": rnd(gj["coordinates"])}


def _point(
    entity: Any, *, kind: str, color: str, glyph: str, tip: str, popup: str, movable: bool = True
) -> dict[str, Any]:
    return {
        "id": entity.id,
        "lon": _r(entity.location.lon),
        "lat": _r(entity.location.lat),
        "kind": kind,
        "color": color,
        "glyph": glyph,
        "tip": tip,
        "popup": popup,
        "movable": movable,
    }


def shelter_points(scenario: Scenario, items: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for s in scenario.shelters if items is None else items:
        s: Shelter
        popup = popup_html(
            s.name,
            [
                (tr("编号"), s.id),
                (tr("类型"), f"{tr(s.setting.value)} · {tr(s.shelter_class.value)}"),
                (tr("容量"), tr("{n} 人").format(n=s.capacity)),
                (tr("已安置"), tr("{n} 人").format(n=s.occupancy)),
                (tr("剩余"), tr("{n} 人").format(n=s.free_capacity)),
                (tr("物资"), _qty(scenario, s.stock)),
            ],
        )
        tip = tr("{name}（余 {n} 人）").format(name=escape(s.name), n=s.free_capacity)
        out.append(
            _point(s, kind="shelter", color=SHELTER_COLOR, glyph=tr("避"), tip=tip, popup=popup)
        )
    return out


def stockpile_points(
    scenario: Scenario, items: Iterable[Any] | None = None
) -> list[dict[str, Any]]:
    out = []
    for s in scenario.stockpiles if items is None else items:
        s: Stockpile
        popup = popup_html(
            s.name,
            [
                (tr("编号"), s.id),
                (tr("级别"), tr(s.level.value)),
                (tr("车辆"), tr("{n} 辆").format(n=len(s.vehicles))),
                (tr("库存"), _qty(scenario, s.inventory)),
                (tr("联系"), s.contact),
            ],
        )
        tip = tr("{name}（{what}）").format(name=escape(s.name), what=escape(tr(s.level.value)))
        out.append(
            _point(s, kind="stockpile", color=STOCKPILE_COLOR, glyph=tr("储"), tip=tip, popup=popup)
        )
    return out


def demand_points(scenario: Scenario, items: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    """The demand points as editable markers (the villages ground layer is their plain look)."""
    towns = {t.code: t.name for t in scenario.townships}
    out = []
    for d in scenario.demand_points if items is None else items:
        rows = [("编号", d.id), ("类型", d.kind.value), ("人口", f"{d.population} 人"),
                ("权重", f"{d.weight:g}"), ("所属乡镇", towns.get(d.township_code, d.township_code))]  # fmt: skip
        tip = f"{escape(d.name)}（{d.population} 人）"
        glyph = d.kind.value[0]
        popup = popup_html(d.name, rows)
        out.append(_point(d, kind="demand", color=VILLAGE_COLOR, glyph=glyph, tip=tip, popup=popup))
    return out


def candidate_points(
    scenario: Scenario, items: Iterable[Any] | None = None
) -> list[dict[str, Any]]:
    """Planner-marked candidate sites (候选站点) for 选址."""
    out = []
    for c in scenario.candidate_sites if items is None else items:
        kind = CANDIDATE_KIND_ZH[c.kind]
        rows = [("编号", c.id), ("可建为", kind), ("可服务/容纳", f"{c.capacity} 人" if c.capacity else "未填"),
                ("建设费用", f"{c.fixed_cost:g} 万元" if c.fixed_cost else "未填"), ("备注", c.note)]  # fmt: skip
        tip = f"{escape(c.name)}（候选·{kind}）"
        popup = popup_html(c.name, rows)
        out.append(
            _point(c, kind="candidate", color=CANDIDATE_COLOR, glyph="候", tip=tip, popup=popup)
        )
    return out


def team_points(scenario: Scenario, items: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for t in scenario.teams if items is None else items:
        t: Team
        popup = popup_html(
            t.name,
            [
                (tr("编号"), t.id),
                (tr("类型"), tr(t.force_type.value)),
                (tr("人数"), t.headcount),
                (tr("状态"), tr(t.status.value)),
                (tr("技能"), tr("、").join(tr(k) for k in t.skills)),
                (tr("车辆"), tr("{n} 辆").format(n=len(t.vehicles))),
                (tr("负责人"), t.leader),
                (tr("电话"), t.phone),
            ],
        )
        tip = tr("{name}（{what}）").format(name=escape(t.name), what=escape(tr(t.status.value)))
        out.append(_point(t, kind="team", color=TEAM_COLOR, glyph=tr("队"), tip=tip, popup=popup))
    return out


def incident_points(scenario: Scenario, items: Iterable[Any] | None = None) -> list[dict[str, Any]]:
    out = []
    for i in scenario.incidents if items is None else items:
        i: Incident
        roman = LEVEL_ROMAN[i.level]
        popup = popup_html(
            i.name,
            [
                (tr("编号"), i.id),
                (tr("类别"), f"{tr(i.category.value)} · {tr(i.subtype)}"),
                (
                    tr("响应级别"),
                    tr("{r}级（{name}）").format(r=roman, name=tr(LEVEL_NAME_ZH[i.level])),
                ),
                (tr("状态"), tr(i.status.value)),
                (tr("接报时间"), i.reported_at.strftime("%Y-%m-%d %H:%M")),
                (tr("受影响人数"), i.affected_people),
                (tr("时限"), tr("{m} 分钟").format(m=f"{i.deadline_min:g}")),
                (tr("需求"), _qty(scenario, i.needs)),
                (tr("说明"), i.description),
            ],
        )
        tip = tr("{name}（{r}级 · {status}）").format(
            name=escape(i.name), r=roman, status=escape(tr(i.status.value))
        )
        out.append(
            _point(
                i, kind="incident", color=LEVEL_COLORS[i.level], glyph=roman, tip=tip, popup=popup
            )
        )
    return out


def township_points(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {
            "id": f"township:{t.code}",
            "lon": _r(t.location.lon),
            "lat": _r(t.location.lat),
            "tip": escape(t.name),
            "popup": popup_html(
                t.name,
                [
                    (tr("区划代码"), t.code),
                    (tr("人口"), t.population or ""),
                    (tr("驻地坐标来源"), t.location_source),
                ],
            ),
        }
        for t in scenario.townships
    ]


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def hazard_features(scenario: Scenario, items: Iterable[Any] | None = None) -> dict[str, Any]:
    feats = []
    for h in scenario.hazards if items is None else items:
        h: Hazard
        color = HAZARD_COLORS[h.risk_level]
        popup = popup_html(
            h.name,
            [
                (tr("编号"), h.id),
                (tr("类别"), tr(h.category)),
                (tr("风险等级"), tr("{r}级").format(r=LEVEL_ROMAN[h.risk_level])),
                (tr("说明"), h.description),
            ],
        )
        props = {"id": h.id, "color": color, "tip": escape(h.name), "popup": popup}
        feats.append(
            {"type": "Feature", "geometry": _geojson_geometry(h.geometry), "properties": props}
        )
    return _fc(feats)


def closure_features(scenario: Scenario) -> dict[str, Any]:
    feats = []
    for c in scenario.closures:
        c: RoadClosure
        effect = tr("封闭") if c.closes else tr("限速（×{f}）").format(f=f"{c.speed_factor:g}")
        popup = popup_html(
            tr("道路管制 {id}").format(id=c.id),
            [
                (tr("原因"), c.reason),
                (tr("效果"), effect),
                (tr("半径"), f"{c.radius_m:g} m" if c.geometry.geom_type == "Point" else ""),
                (tr("开始"), c.since.strftime("%Y-%m-%d %H:%M") if c.since else ""),
                (tr("结束"), c.until.strftime("%Y-%m-%d %H:%M") if c.until else ""),
            ],
        )
        props: dict[str, Any] = {
            "id": c.id,
            "tip": escape(c.reason or c.id),
            "popup": popup,
        }
        if c.geometry.geom_type == "Point":
            props["radius_m"] = max(float(c.radius_m), 1.0)
        feats.append(
            {"type": "Feature", "geometry": _geojson_geometry(c.geometry), "properties": props}
        )
    return _fc(feats)


def boundary_features(scenario: Scenario) -> dict[str, Any]:
    if scenario.boundary is None:
        return _fc([])
    return _fc(
        [
            {
                "type": "Feature",
                "geometry": _geojson_geometry(scenario.boundary, digits=5),
                "properties": {"tip": escape(scenario.name)},
            }
        ]
    )


def line_coords(geom: BaseGeometry, digits: int) -> Any:
    """``(GeoJSON type, rounded coordinates)`` of a (Multi)LineString; ``(None, None)`` else."""
    if geom.geom_type == "LineString":
        return "LineString", [[round(x, digits), round(y, digits)] for x, y, *_ in geom.coords]
    if geom.geom_type == "MultiLineString":
        return "MultiLineString", [
            [[round(x, digits), round(y, digits)] for x, y, *_ in part.coords]
            for part in geom.geoms
        ]
    return None, None


def _col(edges: Any, name: str, default: Any = "") -> list[Any]:
    if name in getattr(edges, "columns", ()):
        return [default if _missing(v) else v for v in edges[name].tolist()]
    return [default] * len(edges)


def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return isinstance(v, float) and math.isnan(v)
    except TypeError:
        return False


def _lines_as_lists(geoms: Any, digits: int) -> list[tuple[str, Any] | tuple[None, None]]:
    """(type, coordinates) per geometry, vectorised for LineStrings (the common case)."""
    import numpy as np
    import shapely

    arr = np.asarray(geoms, dtype=object)
    out: list[tuple[str, Any] | tuple[None, None]] = [(None, None)] * len(arr)
    if not len(arr):
        return out
    types = shapely.get_type_id(arr)
    is_line = types == 1  # LineString
    lines = arr[is_line]
    if len(lines):
        coords = np.round(shapely.get_coordinates(lines), digits)
        counts = shapely.get_num_coordinates(lines)
        parts = np.split(coords, np.cumsum(counts)[:-1])
        for i, part in zip(np.flatnonzero(is_line), parts):
            out[i] = ("LineString", part.tolist())
    for i in np.flatnonzero(~is_line):
        g = arr[i]
        if g is not None and not shapely.is_empty(g):
            out[i] = line_coords(g, digits)
    return out


def road_payload(edges: Any | None, *, digits: int = 5) -> dict[str, Any]:
    """Road edges (GeoDataFrame, EPSG:4326) → ``{"layers": {class: FC}, "styles": {...}}``.

    Edges of one class that share name, ref and speed are merged into one MultiLineString
    feature (a few hundred canvas paths instead of ~10k polylines: the page draws in a fraction
    of the time); each feature's ``properties.k`` is the number of edges it holds.
    """
    groups: dict[str, dict[tuple[str, str, int | None], list[Any]]] = {k: {} for k in ROAD_CLASSES}
    if edges is not None and len(edges):
        highways = _col(edges, "highway")
        names = _col(edges, "name")
        refs = _col(edges, "ref")
        speeds = _col(edges, "maxspeed_kmh", None)
        geoms = _lines_as_lists(edges.geometry.values, digits)
        for (gtype, coords), hw, name, ref, spd in zip(geoms, highways, names, refs, speeds):
            if gtype is None:
                continue
            speed = None if spd is None or _missing(spd) else round(float(spd))
            key = (str(name or ""), str(ref or ""), speed)
            parts = groups[road_class(hw)].setdefault(key, [])
            if gtype == "LineString":
                parts.append(coords)
            else:
                parts.extend(coords)
    layers: dict[str, dict[str, Any]] = {}
    for cls, by_key in groups.items():
        feats = []
        for (name, ref, speed), parts in by_key.items():
            props: dict[str, Any] = {"c": tr(ROAD_CLASSES[cls][0]), "k": len(parts)}
            if name:
                props["n"] = name
            if ref:
                props["r"] = ref
            if speed is not None:
                props["s"] = speed
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": parts},
                    "properties": props,
                }
            )
        if feats:
            layers[cls] = _fc(feats)
    return {
        "layers": layers,
        "styles": {
            k: {"color": c, "weight": w, "label": lbl} for k, (lbl, c, w) in ROAD_CLASSES.items()
        },
    }


def closed_road_features(edges: Any | None, rows: Iterable[int]) -> dict[str, Any]:
    """GeoJSON of the road edge rows a closure affects (drawn in red above the roads)."""
    from gis.workspace_service import ClosedEdge

    if edges is None:
        return _fc([])
    names = _col(edges, "name")
    picked = [
        ClosedEdge(row, edges.geometry.iloc[row], str(names[row] or f"路段 {row}"))
        for row in sorted(set(int(r) for r in rows))
        if 0 <= row < len(edges)
    ]
    return closed_edge_features(picked, unnamed="")


def closed_edge_features(closed: Iterable[Any], *, unnamed: str) -> dict[str, Any]:
    """GeoJSON of closed road edges (objects with ``geometry`` and ``name``, e.g.
    :class:`gis.workspace_service.ClosedEdge`); ``unnamed`` is the tooltip of a nameless one."""
    feats = []
    for edge in closed:
        gtype, coords = line_coords(edge.geometry, 6)
        if gtype is None:
            continue
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": gtype, "coordinates": coords},
                "properties": {"tip": escape(edge.name or unnamed)},
            }
        )
    return _fc(feats)


def layer_payloads(
    scenario: Scenario,
    *,
    layers: Sequence[str] | None = None,
    road_edges: Any | None = None,
    closed_rows: Iterable[int] = (),
    map_layers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """JSON-able payloads for ``RD.setLayerData``, for the requested layers (default: all but roads).

    ``map_layers``: the workspace's ``documents["map_layers"]`` (the rivers drawn as ``water``)."""
    wanted = list(layers) if layers is not None else [i for i in LAYER_IDS if i != "roads"]
    makers = {
        "boundary": lambda: boundary_features(scenario),
        "townships": lambda: township_points(scenario),
        "shelters": lambda: shelter_points(scenario),
        "candidate_sites": lambda: candidate_points(scenario),
        "demand_points": lambda: demand_points(scenario),
        "stockpiles": lambda: stockpile_points(scenario),
        "teams": lambda: team_points(scenario),
        "incidents": lambda: incident_points(scenario),
        "hazards": lambda: hazard_features(scenario),
        "closures": lambda: closure_features(scenario),
        "closed_roads": lambda: closed_road_features(road_edges, closed_rows),
        "routes": lambda: _fc([]),
        "roads": lambda: road_payload(road_edges),
        "water": lambda: water_features(map_layers),
        "bridges": lambda: bridge_features(road_edges),
        "villages": lambda: village_points(scenario),
    }
    return {name: makers[name]() for name in wanted}


def scenario_bounds(scenario: Scenario, road_edges: Any | None = None) -> list[float] | None:
    """[minx, miny, maxx, maxy] of the boundary, else of all entities and roads."""
    if scenario.boundary is not None:
        return [float(v) for v in scenario.boundary.bounds]
    xs: list[float] = []
    ys: list[float] = []
    for fname in ("shelters", "stockpiles", "teams", "incidents"):
        for e in getattr(scenario, fname):
            xs.append(e.location.lon)
            ys.append(e.location.lat)
    for t in scenario.townships:
        xs.append(t.location.lon)
        ys.append(t.location.lat)
    if road_edges is not None and len(road_edges):
        minx, miny, maxx, maxy = road_edges.total_bounds
        xs += [float(minx), float(maxx)]
        ys += [float(miny), float(maxy)]
    if not xs:
        return None
    return [min(xs), min(ys), max(xs), max(ys)]
