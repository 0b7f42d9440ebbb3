"""Payloads of the map's ground layers (Qt-free): water, bridges, villages.

The ground an operator reasons with, drawn from what the workspace already holds:

* ``water``: the rivers document (``documents["map_layers"]["rivers"]``, a GeoJSON
  FeatureCollection of water polygons and centre lines, written by tools/build_demo.py);
* ``bridges``: the road edges whose ``bridge`` flag is set (one feature per named bridge, its
  edges merged), labelled with the bridge's name;
* ``villages``: the scenario's demand points (村/社区), labelled only at higher zoom (the page
  hides the labels below :data:`VILLAGE_LABEL_ZOOM`).

Names from data reach the page only as escaped text (:func:`gui.js_text.escape`). A missing or
unreadable rivers document gives an empty layer, never an error: the map still opens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shapely.geometry import mapping, shape
from shapely.ops import linemerge, unary_union

from gis.model import Scenario
from gui.js_text import escape, popup_html

#: Village names are shown from this zoom level on (county view: 10–11; a township: 13+).
VILLAGE_LABEL_ZOOM = 13

_DIGITS = 5


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _rounded(geom: Any) -> dict[str, Any]:
    def rnd(obj: Any) -> Any:
        if isinstance(obj, float):
            return round(obj, _DIGITS)
        if isinstance(obj, list | tuple):
            return [rnd(x) for x in obj]
        return obj

    g = mapping(geom)
    return {"type": g["type"], "coordinates": rnd(g["coordinates"])}


def water_features(map_layers: Mapping[str, str] | None) -> dict[str, Any]:
    """The workspace's rivers as a FeatureCollection (``kind``: ``water`` area or ``centreline``)."""
    text = (map_layers or {}).get("rivers")
    if not text:
        return _fc([])
    try:
        doc = json.loads(text)
        raw = list(doc.get("features") or [])
    except (ValueError, AttributeError, TypeError):
        return _fc([])
    out = []
    for f in raw:
        try:
            geom = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # one bad feature does not hide the others
        if geom.is_empty:
            continue
        props = f.get("properties") or {}
        name = str(props.get("name") or "")
        kind = "centreline" if geom.geom_type in ("LineString", "MultiLineString") else "water"
        out.append(
            {
                "type": "Feature",
                "geometry": _rounded(geom),
                "properties": {"kind": kind, "tip": escape(name) if name else ""},
            }
        )
    # areas first, so the centre lines are drawn over them
    out.sort(key=lambda f: f["properties"]["kind"] != "water")
    return _fc(out)


def bridge_features(road_edges: Any | None) -> dict[str, Any]:
    """Bridges from the road edges' ``bridge`` flag: one labelled line per bridge name."""
    if road_edges is None or not len(road_edges) or "bridge" not in road_edges.columns:
        return _fc([])
    flagged = road_edges[road_edges["bridge"].fillna(False).astype(bool)]
    groups: dict[str, list[Any]] = {}
    info: dict[str, tuple[str, str]] = {}
    for i, row in enumerate(flagged.itertuples(index=False)):
        name = str(getattr(row, "name", "") or "").strip()
        ref = str(getattr(row, "ref", "") or "").strip()
        key = name or ref or f"#{i}"
        groups.setdefault(key, []).append(row.geometry)
        info.setdefault(key, (name or ref or "桥梁", str(getattr(row, "highway", "") or "")))
    feats = []
    for key, geoms in groups.items():
        label, highway = info[key]
        merged = linemerge(unary_union(geoms)) if len(geoms) > 1 else geoms[0]
        feats.append(
            {
                "type": "Feature",
                "geometry": _rounded(merged),
                "properties": {
                    "id": f"bridge:{key}",
                    "label": escape(label),
                    "tip": escape(label),
                    "popup": popup_html(label, [("类型", "桥梁"), ("道路等级", highway)]),
                },
            }
        )
    return _fc(feats)


def village_points(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's demand points (villages/communities) as small labelled dots."""
    towns = {t.code: t.name for t in scenario.townships}
    return [
        {
            "id": f"village:{d.id}",
            "lon": round(d.location.lon, 6),
            "lat": round(d.location.lat, 6),
            "tip": escape(d.name),
            "popup": popup_html(
                d.name,
                [
                    ("编号", d.id),
                    ("人口", d.population or ""),
                    ("所属乡镇", towns.get(d.township_code, d.township_code)),
                ],
            ),
        }
        for d in scenario.demand_points
    ]


def township_area_features(map_layers: Mapping[str, str] | None) -> dict[str, Any] | None:
    """Township areas (乡镇界) from ``documents["map_layers"]["township_areas"]`` when the
    workspace holds them (a GeoJSON FeatureCollection of polygons); None otherwise."""
    text = (map_layers or {}).get("township_areas")
    if not text:
        return None
    try:
        raw = list(json.loads(text).get("features") or [])
    except (ValueError, AttributeError, TypeError):
        return None
    out = []
    for f in raw:
        try:
            geom = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        name = str((f.get("properties") or {}).get("name") or "")
        out.append(
            {"type": "Feature", "geometry": _rounded(geom), "properties": {"tip": escape(name)}}
        )
    return _fc(out) if out else None


def workspace_basemap_spec(
    scenario: Scenario, map_layers: Mapping[str, str] | None
) -> dict[str, Any]:
    """``RD.setBasemap`` spec of the base map drawn from the workspace (:mod:`gis.basemap`)."""
    from gis.basemap import DEFAULT, page_spec, place_labels

    try:
        rivers = json.loads((map_layers or {}).get("rivers") or "{}")
    except ValueError:
        rivers = {}
    # the county's own name (metadata ``county``, e.g. 合江县), not the scenario's title
    county = str(dict(scenario.metadata).get("county") or "").strip() or scenario.name
    labels = place_labels(county, scenario.boundary, rivers if isinstance(rivers, dict) else {})
    return page_spec(DEFAULT, labels=labels)
